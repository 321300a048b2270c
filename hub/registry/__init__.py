"""The office/vendor registry: which offices the hub serves, and what each vendor may send them.

The registry is one TOML file (``HUB_REGISTRY_PATH``, default ``./registry.toml``)::

    [[offices]]
    id = "office-1"                          # ^[a-z0-9][a-z0-9-]{0,62}$; queue hub.office.<id>
    api_url = "http://127.0.0.1:30223/api/v1"
    mode = "service"                         # remote | service | local (decides the pacing)
    read_only = false                        # optional: a read-only customer key (no writes)
    customer_key_env = "HUB_OD_CUSTOMER_KEY" # or customer_key_file = "/path" (exactly one)
    # developer_key_env = "VAR"              # optional; default: the hub-wide HUB_OD_DEVELOPER_KEY

    [offices.db]                             # read-only SQL to this office's Open Dental database
    host = "127.0.0.1"
    port = 3306                              # optional, default 3306
    database = "opendental"
    user = "od_readonly"
    password_env = "HUB_OD_DB__PASSWORD"     # or password_file = "/path" (exactly one)

    [[vendors]]
    name = "formsco"                         # same pattern; also the vendor's RabbitMQ user name

    [[vendors.agreements]]                   # the data agreement an office signed with the vendor
    office = "office-1"
    contracts = ["patient.create", "patient.update"]
    # optional: change.v1 events of watched tables; values only for the columns listed
    read = [{ table = "appointment", values = ["AptDateTime", "Op"] }, { table = "patient" }]

Secrets are given only by reference: an environment variable name (upper case) or a file whose
whole text, stripped, is the secret; a relative file name is relative to the registry file. A key
written literally (``customer_key``, ``developer_key``, ``password``) is refused, as is any unknown
key. Ids must be unique, agreements must name offices of the file, contracts must be known
(the v1 contracts unless the caller passes another set), and a read must name a watched table
(contracts/od_tables.py) once, with columns of that table. Every problem is reported with its
field path, e.g. ``vendors[0].agreements[1].office: unknown office 'office-9'``.
"""

from hub.registry.loader import (
    RegistrySource,
    load_hub_registry,
    load_registry,
    read_registry,
    registry_from,
    settings_env,
)
from hub.registry.model import (
    V1_CONTRACTS,
    Agreement,
    Office,
    OfficeDatabase,
    Registry,
    RegistryError,
    Vendor,
)

__all__ = [
    "V1_CONTRACTS",
    "Agreement",
    "Office",
    "OfficeDatabase",
    "Registry",
    "RegistryError",
    "RegistrySource",
    "Vendor",
    "load_hub_registry",
    "load_registry",
    "read_registry",
    "registry_from",
    "settings_env",
]
