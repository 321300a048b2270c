"""The PHI search's parts (issue 17, item 4): the needles, every patient value a run published,
and the haystack, every text the run left behind, each with the place it came from.

The needles are the values of the payload fields that identify or describe a patient (names,
birthdate, contact details, free-text notes), taken from the bodies the run published, the
refused and the malformed ones too. A needle is found only whole: "Ada" in "Ada Lovelace",
never in "Adam" or "metadata"; "1971-03-04" in "1971-03-04T09:00", never in "11971-03-04".
Values of eight characters or more are found in any case, shorter ones only as published.

Dead letters are searched by their headers and properties only: ``hub.dead`` keeps each body
on purpose, for replay, and a body is the vendor's message itself.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import aiomysql
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from contracts import Intent
from hub import names
from hub.broker_connection import robust_channel
from hub.dlq import DeadLetter, DlqNames
from hub.observability.logs import QUIET_LOGGERS, JsonFormatter
from hub.settings import HubSettings
from hub.topology import declare_exchanges
from tests.support.mariadb import ROOT

PHI_FIELDS = frozenset({
    "LName", "FName", "MiddleI", "Preferred", "Birthdate", "SSN", "ChartNumber",
    "Email", "HmPhone", "WkPhone", "WirelessPhone", "Address", "Address2", "City", "Zip",
    "Note", "PayNote",
})
# A value this long or longer is found in any case ("LOVELACE"): every run's surname, notes and
# addresses. A shorter one only as published: it may be a word ("grace period"; the chaos run's
# first names "Be", "No", "To").
CASELESS_FROM = 8
EXCERPT_CHARS = 60
SHOWN_HITS = 30


@dataclass(frozen=True, kw_only=True)
class Text:
    place: str  # where it was found: "writer log line 12", "ledger intents.last_error row 3"
    text: str


@dataclass(frozen=True, kw_only=True)
class Hit:
    place: str
    field: str  # the payload field the value was published in
    value: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.place}: {self.field} {self.value!r} in ...{self.excerpt}..."


def _payload(body: Intent | bytes) -> Mapping[str, object]:
    raw = body.to_json() if isinstance(body, Intent) else body
    document = json.loads(raw)
    payload = document.get("payload") if isinstance(document, dict) else None
    return payload if isinstance(payload, dict) else {}


def needles(bodies: Iterable[Intent | bytes]) -> dict[str, str]:
    """Every PHI value in ``bodies``' payloads, with the field it came in."""
    found: dict[str, str] = {}
    for body in bodies:
        for name, value in _payload(body).items():
            if name in PHI_FIELDS and isinstance(value, str) and value.strip():
                found[value] = name
    return found


def _edge(char: str) -> str:
    """What may not touch a value's end that is ``char``: a digit may not touch a digit (a date
    stays a date in "1971-03-04T09:00"), a letter neither a letter nor a digit."""
    if char.isdigit():
        return "0-9"
    return "A-Za-z0-9" if char.isalpha() else ""


def _whole(value: str) -> str:
    before, after = _edge(value[0]), _edge(value[-1])
    body = re.escape(value) if len(value) < CASELESS_FROM else f"(?i:{re.escape(value)})"
    return "".join([
        f"(?<![{before}])" if before else "", body, f"(?![{after}])" if after else "",
    ])


def search(texts: Iterable[Text], wanted: Mapping[str, str]) -> list[Hit]:
    """Each whole occurrence of a needle in ``texts``."""
    if not wanted:
        return []
    ordered = sorted(wanted, key=len, reverse=True)
    pattern = re.compile("|".join(f"(?P<n{n}>{_whole(v)})" for n, v in enumerate(ordered)))
    hits = []
    for text in texts:
        for match in pattern.finditer(text.text):
            assert match.lastgroup is not None
            value = ordered[int(match.lastgroup[1:])]
            start, end = match.span()
            excerpt = text.text[max(0, start - EXCERPT_CHARS):end + EXCERPT_CHARS]
            hits.append(Hit(place=text.place, field=wanted[value], value=value, excerpt=excerpt))
    return hits


def report(hits: list[Hit]) -> str:
    shown = "\n".join(str(hit) for hit in hits[:SHOWN_HITS])
    more = f"\n... and {len(hits) - SHOWN_HITS} more" if len(hits) > SHOWN_HITS else ""
    return f"{len(hits)} PHI hit(s):\n{shown}{more}"


def lines(source: str, text: str) -> list[Text]:
    return [Text(place=f"{source} line {n}", text=line)
            for n, line in enumerate(text.splitlines(), start=1)]


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """Every record of this process at INFO and above, as ``hub worker`` writes it
    (``HUB_LOG_FORMAT=json``, ``configure_logging``'s levels), into the yielded buffer."""
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    quiet = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [root.level, *(logger.level for logger in quiet)]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        for logger, level in zip([root, *quiet], levels, strict=True):
            logger.setLevel(level)


def _sample_texts(source: str, samples: Iterable[Sample]) -> list[Text]:
    return [
        Text(place=f"{source} {sample.name}",
             text=" ".join(f"{name}={value}" for name, value in sorted(sample.labels.items())))
        for sample in samples
    ]


def registry_labels(source: str, registry: CollectorRegistry) -> list[Text]:
    """Every sample's labels, one text per sample."""
    return _sample_texts(source, (s for family in registry.collect() for s in family.samples))


def exposition_labels(source: str, exposition: str) -> list[Text]:
    """Every sample's labels of a scraped /metrics (Prometheus' text format)."""
    families = text_string_to_metric_families(exposition)
    return _sample_texts(source, (s for family in families for s in family.samples))


def _flat(value: object) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _flat(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flat(item)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="replace")
    elif value is not None:
        yield str(value)


@asynccontextmanager
async def own_dead_letters(settings: HubSettings, office: str) -> AsyncIterator[DlqNames]:
    """A queue of the test's own that receives a copy of ``office``'s dead letters, for
    ``hub dlq``'s scan: another test's scan of the shared ``hub.dead`` would hold some of them."""
    async with robust_channel(settings.broker_url) as channel:
        await declare_exchanges(channel)
        queue = await channel.declare_queue(f"t-dead-{uuid.uuid4().hex[:10]}", durable=True)
        try:
            await queue.bind(names.DEAD_LETTER_EXCHANGE, names.dead_letter_key(office))
            yield DlqNames(queue=queue.name)
        finally:
            await queue.delete(if_unused=False, if_empty=False)


def dead_letter_texts(source: str, letters: Iterable[DeadLetter]) -> list[Text]:
    """Each letter's headers and properties (not its body), and the key it was routed with."""
    return [
        Text(place=f"{source} letter {letter.position} ({letter.message_id})",
             text=" ".join([letter.routing_key, *_flat(letter.headers),
                            *_flat(letter.properties)]))
        for letter in letters
    ]


def _cell(value: object) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


async def ledger_texts(database: str) -> list[Text]:
    """Every column of every row of every table of ``database``, one text per cell. The bodies
    ``parked_deliveries`` holds by design are among them: a drained run has parked none."""
    conn = await aiomysql.connect(host=ROOT.host, port=ROOT.port, user=ROOT.user,
                                  password=ROOT.password.get_secret_value(), db=database)
    texts = []
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT table_name FROM information_schema.tables"
                              " WHERE table_schema = %s ORDER BY table_name", (database,))
            tables = [name for (name,) in await cur.fetchall()]
            for table in tables:
                await cur.execute(f"SELECT * FROM `{table}`")
                columns = [column[0] for column in cur.description]
                for n, row in enumerate(await cur.fetchall(), start=1):
                    texts += [Text(place=f"ledger {table}.{column} row {n}", text=_cell(value))
                              for column, value in zip(columns, row, strict=True)
                              if value is not None]
    finally:
        conn.close()
    return texts
