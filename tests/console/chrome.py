"""Debian's chromium, driven by Selenium through Debian's chromedriver, from async tests.

Selenium blocks, and the console, the writer and the broker run on the test's event loop, so
every browser step runs in a thread. The paths are given, so Selenium Manager never runs and
nothing is downloaded; both come from ``apt-get install chromium chromium-driver``
(scripts/ensure-services.sh). Every page visited is saved as a screenshot under
``artifacts/console/<test>/`` (git-ignored), numbered in visiting order.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"
T = TypeVar("T")
STALE_TRIES = 3  # a page refreshing every 2 s replaces an element at most once in a click
FORGE = """
const form = document.createElement("form");
form.method = "post";
form.action = arguments[0];
const token = document.querySelector("input[name=csrf]");
if (arguments[1] && token) {
  const field = document.createElement("input");
  field.type = "hidden"; field.name = "csrf"; field.value = token.value;
  form.appendChild(field);
}
document.body.appendChild(form);
form.submit();
"""


class Chrome:
    """One headless browser; ``base`` is the console's URL."""

    def __init__(self, driver: webdriver.Chrome, base: str, shots: Path) -> None:
        self.driver = driver
        self.base = base
        self.shots = shots
        self._count = 0

    async def run(self, step: Callable[[], T]) -> T:
        return await asyncio.to_thread(step)

    async def open(self, path: str) -> str:
        """Go to ``path``, save its screenshot, and return its text."""
        await self.run(lambda: self.driver.get(self.base + path))
        return await self.shot(path)

    async def shot(self, what: str) -> str:
        self._count += 1
        name = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")[:60] or "page"
        target = self.shots / f"{self._count:02d}-{name}.png"
        await self.run(lambda: self.driver.save_screenshot(str(target)))
        return await self.run(lambda: self.driver.find_element(By.TAG_NAME, "body").text)

    async def find(self, css: str) -> WebElement:
        return await self.run(lambda: self.driver.find_element(By.CSS_SELECTOR, css))

    async def type(self, css: str, text: str) -> None:
        element = await self.find(css)
        await self.run(lambda: (element.clear(), element.send_keys(text)))

    async def forge(self, path: str, then: str, *, with_token: bool) -> str:
        """POST an empty form to ``path`` as another page's script would, with this page's CSRF
        token or without one; the answer's screenshot as ``then``, and its text. (WebDriver's
        script is the test's, not the page's: the console's CSP still allows the page none.)"""
        await self.run(lambda: self.driver.execute_script(FORGE, self.base + path, with_token))
        return await self.shot(then)

    async def click(self, css: str, then: str) -> str:
        """Click, wait for the next page, save its screenshot as ``then``; its text. A page that
        refreshes itself (a running bulk replay's, every 2 s) may replace the element between
        finding and clicking it: it is found again on the new page."""

        def find_and_click() -> None:
            for _ in range(STALE_TRIES - 1):
                with suppress(StaleElementReferenceException):
                    self.driver.find_element(By.CSS_SELECTOR, css).click()
                    return
            self.driver.find_element(By.CSS_SELECTOR, css).click()

        await self.run(find_and_click)
        return await self.shot(then)


@asynccontextmanager
async def chrome(base: str, test_name: str) -> AsyncIterator[Chrome]:
    assert await asyncio.to_thread(lambda: CHROMIUM.is_file() and CHROMEDRIVER.is_file()), (
        "the browser tests need Debian's chromium and chromium-driver: "
        "scripts/ensure-services.sh installs them"
    )
    shots = ARTIFACTS / test_name
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = await asyncio.to_thread(
        webdriver.Chrome, options=options, service=Service(executable_path=str(CHROMEDRIVER))
    )
    try:
        yield Chrome(driver, base, shots)
    finally:
        await asyncio.to_thread(driver.quit)
        print(f"screenshots: {shots}")
