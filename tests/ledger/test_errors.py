import aiomysql
import pytest

from hub.errors import LedgerError, TransientError
from hub.ledger.mysql_errors import TRANSIENT_CODES, translate


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        *((aiomysql.OperationalError(code, "server"), TransientError) for code in TRANSIENT_CODES),
        (aiomysql.InterfaceError(0, "Not connected"), TransientError),
        (ConnectionResetError(), TransientError),
        (TimeoutError(), TransientError),
        (aiomysql.OperationalError(1045, "Access denied"), LedgerError),
        (aiomysql.OperationalError(1049, "Unknown database"), LedgerError),
        (aiomysql.ProgrammingError(1146, "Table doesn't exist"), LedgerError),
        (aiomysql.IntegrityError(1452, "foreign key"), LedgerError),
        (aiomysql.DataError(1406, "Data too long"), LedgerError),
    ],
    ids=str,
)
def test_every_driver_failure_maps_to_one_hub_error(
    failure: Exception, expected: type[Exception]
) -> None:
    # Given a driver or socket failure, When it is translated
    translated = translate(failure, "testing")
    # Then it becomes exactly the expected hub error, naming the step but not the driver text
    assert type(translated) is expected
    assert "testing" in str(translated) and "server" not in str(translated)
