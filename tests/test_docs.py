"""The README and docs/ stay true to the repository: every test they name exists, and every
relative link points at a file of the repository. Renaming a test or moving a file breaks the
build until the docs follow."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
# A pytest node id as the docs write it: tests/<path>.py::<test>, maybe with one parameter id.
TEST_ID = re.compile(r"tests/[\w/]+\.py::\w+(?:\[[^\]\s`]+\])?")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
NOT_A_FILE = ("http://", "https://", "mailto:", "#")
MIN_NAMED = 20  # the invariants in docs/architecture.md name far more: a broken pattern finds 0
COLLECT_TIMEOUT_S = 300


def _text(doc: Path) -> str:
    return doc.read_text(encoding="utf-8")


def _named_tests() -> list[str]:
    return sorted({node for doc in DOCS for node in TEST_ID.findall(_text(doc))})


def _collected(node: str, lines: set[str]) -> bool:
    """Collected as named, or as one of its parametrised cases when the docs name the test."""
    return node in lines or any(line.startswith(f"{node}[") for line in lines)


def test_every_test_the_docs_name_exists() -> None:
    # Given every test the README and docs/ name
    named = _named_tests()
    assert len(named) >= MIN_NAMED, named
    # When pytest collects exactly those, in a process of its own
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *named],
        cwd=ROOT, capture_output=True, text=True, timeout=COLLECT_TIMEOUT_S, check=False,
    )
    # Then pytest finds every one of them
    not_found = [line for line in result.stderr.splitlines() if "not found" in line]
    assert (result.returncode, not_found) == (0, []), result.stdout[-3000:] + result.stderr
    lines = set(result.stdout.splitlines())
    assert [node for node in named if not _collected(node, lines)] == []


def _relative_links(doc: Path) -> list[str]:
    prose = FENCED.sub("", _text(doc))  # code blocks hold code, not links
    return [target for target in LINK.findall(prose) if not target.startswith(NOT_A_FILE)]


def test_every_relative_link_points_at_a_file() -> None:
    # Given every link of the README and docs/ that is not a web address or an anchor
    broken: list[str] = []
    for doc in DOCS:
        for target in _relative_links(doc):
            # When it is resolved against the folder of the file that holds it
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            # Then it names a file or folder inside the repository
            if not (path.is_relative_to(ROOT) and path.exists()):
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []
