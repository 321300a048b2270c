"""How the hub reaches one office's Open Dental API: its base URL, keys, mode and key rights."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from hub.opendental.constants import LOCAL_PAGE_LIMIT, REMOTE_PAGE_LIMIT
from hub.settings import ApiMode


@dataclass(frozen=True, kw_only=True)
class OfficeApi:
    """One office's API access. The keys are SecretStr, so repr and logs show only asterisks."""

    office_id: str
    base_url: str  # e.g. http://127.0.0.1:30223/api/v1, without a trailing slash
    developer_key: SecretStr
    customer_key: SecretStr
    mode: ApiMode
    read_only: bool = False  # a key holding ReadAll only: throttled to one request per 5 s
    page_rows: int | None = None  # rows per list page; None: the most Open Dental serves

    def authorization(self) -> str:
        """The value of the Authorization header Open Dental expects."""
        developer = self.developer_key.get_secret_value()
        customer = self.customer_key.get_secret_value()
        return f"ODFHIR {developer}/{customer}"

    @property
    def page_limit(self) -> int:
        """Rows asked for per list page.

        Never more than the mode serves: a page is known to be the last when it is shorter than
        this, which only holds while Open Dental honours the Limit we ask for.
        """
        maximum = REMOTE_PAGE_LIMIT if self.mode is ApiMode.REMOTE else LOCAL_PAGE_LIMIT
        return maximum if self.page_rows is None else min(self.page_rows, maximum)
