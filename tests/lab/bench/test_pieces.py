"""hub bench's pure pieces: percentiles and steady windows, the generated files, the report."""

from __future__ import annotations

import json
import os
import socket
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from adapters.publisher import intents
from contracts import parse_intent
from contracts.v1.patient import PatientCreate
from hub.registry import load_registry
from hub.settings import ApiMode, HubSettings
from lab.bench.config import BenchOptions, FleetOptions, ThrottleReading
from lab.bench.files import key_variables, registry_toml, sim_toml
from lab.bench.procs import MachineTimes, cpu_us_each, listening_pid, machine_times
from lab.bench.profile import breakdown
from lab.bench.report import BenchReport, FleetResult, LoadResult, Machine
from lab.bench.stats import percentile, steady_bounds, steady_rate
from lab.bench.traffic import intent_body, patient_body
from lab.bench.world import OFFICES_PER_VENDOR, BenchWorld, first_name


def test_percentiles_are_nearest_rank() -> None:
    # Given 1..100, When percentiles are read, Then each is the value at its rank
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile([], 99)) == (50, 99, 0)


def test_the_steady_window_leaves_out_the_first_and_last_tenth() -> None:
    # Given a thousand completions one per millisecond, When the steady rate is taken
    times = [n / 1000 for n in range(1000)]
    # Then it spans the 100th to the 900th completion, at a thousand a second
    assert steady_bounds(1000) == (100, 900)
    assert steady_rate(times) == pytest.approx(1000.0)


def test_first_names_are_distinct_letters() -> None:
    names = {first_name(n) for n in range(5000)}
    assert len(names) == 5000 and all(name.isalpha() for name in names)


def test_generated_files_load_as_the_simulator_and_the_hub_read_them(tmp_path: Path) -> None:
    # Given a world of more remote offices than one vendor is given
    world = BenchWorld.new(offices=OFFICES_PER_VENDOR + 3, mode=ApiMode.REMOTE)
    # When its simulator config and registry are generated
    sim = tomllib.loads(sim_toml(world, HubSettings()))
    path = tmp_path / "registry.toml"
    path.write_text(registry_toml(world, "http://127.0.0.1:1/api/v1"))
    registry = load_registry(path, key_variables(world))
    # Then every key is its own office over one database
    assert {c["database"] for c in sim["customers"]} == {world.office_database}
    assert [c["key"] for c in sim["customers"]][:2] == [world.customer_key(n) for n in (1, 2)]
    assert sim["mode"] == "remote"
    assert list(registry.offices) == world.office_ids()
    # And the offices are shared out between two vendors, each agreed with its own
    first, second = world.vendors()
    assert registry.vendor(first).offices == tuple(world.office_ids()[:OFFICES_PER_VENDOR])
    assert registry.vendor(second).offices == tuple(world.office_ids()[OFFICES_PER_VENDOR:])
    assert registry.office(world.office_id(2)).customer_key.get_secret_value() == (
        world.customer_key(2)
    )


def test_the_publisher_writes_what_the_vendor_library_writes() -> None:
    # Given a world, When the bench writes an intent body
    world = BenchWorld.new(offices=2, mode=ApiMode.SERVICE)
    document = json.loads(intent_body(world, 2, "k-1", 7))
    # Then it parses as the contract's intent, equal to the library's build of the same patient
    built = intents.patient_create(
        PatientCreate.model_validate(patient_body(world, 7)), office_id=world.office_id(2),
        idempotency_key="k-1", occurred_at=datetime.fromisoformat(document["occurred_at"]),
    )
    assert parse_intent(json.dumps(document).encode()) == built


def test_the_profile_charges_each_sample_to_its_innermost_step() -> None:
    # Given py-spy samples: a claim, an HTTP call made inside apply, and the loop waiting idle
    loop = "BaseEventLoop._run_once (asyncio/base_events.py:1)"
    claim = f"{loop};claim (hub/writer/intake.py:9);MySqlLedger.claim (hub/ledger/x.py:3)"
    http = f"{loop};Applier.apply (a.py:1);OpenDentalClient._send (hub/opendental/client.py:2)"
    idle = f"{loop};EpollSelector.select (selectors.py:468)"
    raw = f"{claim} 30\n{http} 10\n{idle} 500\n"
    # When it is broken down for 400 µs of CPU per intent
    steps = breakdown(raw, 400.0)
    # Then the idle wait counts for nothing and the rest is shared by samples
    assert steps == {"ledger claim": 300.0, "HTTP (client, aiohttp)": 100.0}


def _load(load: float) -> LoadResult:
    return LoadResult(
        load=load, offered_per_s=load * 10, published=5, applied_per_s=9.8, applied_ratio=0.98,
        throttle_replies=0, throttle_replies_per_min=0.0, throttle_reply_share=0.0, p50_s=0.1,
        p95_s=0.2, p99_s=0.3, not_applied=0, unaccounted=0,
        machine_busy=0.5, slot_gap_s=1.02, sim_handling_s=0.015, scrapes=4, scrape_failures=0,
        scrape_s=0.2,
    )


def test_the_fleet_json_keys_each_figure_by_load() -> None:
    # Given a report of two loads
    fleet = FleetResult(offices=10, writers=1, seconds=60, warmup_s=5, allowance_per_s=10,
                        loads=(_load(0.5), _load(1.5)), publisher_niceness=10,
                        scrape_interval_s=15, rtt_ms=300, jitter_ms=50,
                        throttle_reading="starts")
    machine = Machine(cpus=2, python="3.11", load_before=0.1, load_after=0.2)
    # When it is printed as JSON
    document = json.loads(BenchReport(machine=machine, fleet=fleet).as_json())
    # Then fleet.applied_ratio, fleet.throttle_replies and fleet.p99_s map each load
    for name in ("applied_ratio", "throttle_replies", "throttle_replies_per_min", "p99_s"):
        assert set(document["fleet"][name]) == {"0.5", "1.5"}
    assert "ceiling" not in document and document["machine"]["cpus"] == 2


def test_the_machine_busy_share_is_busy_ticks_over_all_ticks() -> None:
    # Given two readings of the machine's CPU ticks, 300 of 400 new ones busy
    before = MachineTimes(busy=1_000, total=5_000)
    after = MachineTimes(busy=1_300, total=5_400)
    # Then the share busy in between is 75%, and nothing elapsed reads as idle
    assert after.busy_share_since(before) == 0.75
    assert before.busy_share_since(before) == 0.0


def test_a_spinning_core_reads_as_busy() -> None:
    # Given this machine's CPU ticks now
    before = machine_times()
    # When this process spins for a while
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        pass
    # Then the reading after it counts that time busy
    share = machine_times().busy_share_since(before)
    assert 0 < share <= 1


def test_the_fleets_round_trip_is_split_into_two_jittered_legs() -> None:
    # Given a fleet over round trips of 300 ± 50 ms, the throttle counting from replies
    options = FleetOptions(rtt_ms=300, jitter_ms=50, throttle_reading=ThrottleReading.REPLIES)
    # When it becomes the simulator's options
    args = options.sim_args()
    # Then each leg waits 125 ms plus up to 50 ms (round trips from 250 to 350 ms)
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    assert pairs == {
        "--throttle-reading": "replies",
        "--request-latency-ms": "125", "--request-jitter-ms": "50",
        "--reply-latency-ms": "125", "--reply-jitter-ms": "50",
    }
    # And a jitter beyond the round trip is refused
    with pytest.raises(ValueError, match="jitter"):
        BenchOptions(settings=HubSettings(), fleet=FleetOptions(rtt_ms=20, jitter_ms=30))


def test_the_process_listening_on_a_port_is_found_by_its_socket() -> None:
    # Given this process listening on a free port, and the same port once closed
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        # When the listener is looked up, Then it is this process
        assert listening_pid(port) == os.getpid()
    # And nobody, once the socket is closed
    assert listening_pid(port) is None


def test_cpu_per_message_is_each_process_s_difference_over_the_messages() -> None:
    # Given two marks, the second without a process that exited meanwhile
    low = {"writer": 1.0, "mariadbd": 2.0, "gone": 3.0}
    high = {"writer": 1.5, "mariadbd": 2.25}
    # When read over 500 messages, Then each process that both marks saw gets µs per message
    assert cpu_us_each(low, high, 500) == {"writer": 1000.0, "mariadbd": 500.0}
