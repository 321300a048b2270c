"""docker-compose.yml: valid by the Compose Specification, consistent, and free of secrets.

No Docker engine runs here, so the file is checked against the specification's JSON schema
(vendored in deploy/compose-spec/) and for what the schema cannot see: references between
services, volumes, files, ports, Prometheus' targets and Grafana's provisioning."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from contracts.limits import HUB_MAX_BYTES
from hub.cli import app
from hub.registry import load_registry
from tests.observability.compose_file import (
    INTERPOLATION,
    ROOT,
    SCHEMA_FILE,
    compose,
    env_example,
    environment,
    literal_secret_problems,
    services,
    strings,
)
from tests.observability.promtool import PROMETHEUS_DIR, promtool

ONE_SHOT = {"setup"}
MADE_CERTIFICATES = {"ca.pem", "server.pem", "server.key", "client.pem", "client.key"}
GRAFANA = ROOT / "grafana" / "provisioning"


def _validator() -> jsonschema.Draft201909Validator:
    return jsonschema.Draft201909Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_the_compose_file_follows_the_compose_specification() -> None:
    # Given the compose file and the specification's schema, Then there is no error
    errors = [error.message for error in _validator().iter_errors(compose())]
    assert errors == []


def test_the_schema_catches_a_misspelt_key() -> None:
    # Given the compose file with a service key misspelt
    document = compose()
    document["services"]["writer"]["healthchek"] = document["services"]["writer"].pop("healthcheck")
    # Then the schema refuses it, so the validation above has teeth
    assert not _validator().is_valid(document)


def test_every_service_has_a_healthcheck_and_depends_on_known_services() -> None:
    # Given every service
    for name, service in services().items():
        # Then each long-running one is health-checked, and each dependency exists
        if name not in ONE_SHOT:
            assert "healthcheck" in service, name
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services(), (name, dependency)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services()[dependency], (name, dependency)


def _seconds(duration: str) -> float:
    """A compose duration of seconds, such as ``15s``."""
    assert re.fullmatch(r"\d+s", duration), duration
    return float(duration[:-1])


def test_the_writers_health_check_is_hub_check_within_compose_timeout() -> None:
    # Given the writer's health check
    healthcheck = services()["writer"]["healthcheck"]
    test = healthcheck["test"]
    # Then it runs `hub check`, a command the hub has, whose own timeout ends before compose's
    assert test[:3] == ["CMD", "hub", "check"]
    assert CliRunner().invoke(app, ["check", "--help"]).exit_code == 0
    own_timeout_s = float(test[test.index("--timeout") + 1])
    assert own_timeout_s < _seconds(healthcheck["timeout"])


def test_volumes_are_named_or_files_of_the_repository() -> None:
    # Given every volume of every service
    declared = set(compose()["volumes"])
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            # Then a named volume is declared, and a bind mount names a file in the repository
            # or one that scripts/make-certs.sh makes in ./tls
            if source.startswith("./tls/"):
                assert source.removeprefix("./tls/") in MADE_CERTIFICATES, (name, source)
            elif source.startswith("."):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)


def test_make_certs_makes_the_files_the_stack_mounts(tmp_path: Path) -> None:
    # Given the certificates made as the compose file's header says
    subprocess.run(
        [ROOT / "scripts" / "make-certs.sh", "--for-containers", tmp_path / "tls"],
        check=True, capture_output=True,
    )
    made = {path.name for path in (tmp_path / "tls").iterdir()}
    # Then every file the stack mounts is there, the services' certificate names the services
    # the hub reaches, and the containers' users can read the keys while the host's cannot
    # list the directory
    assert made >= MADE_CERTIFICATES
    names = subprocess.run(
        ["openssl", "x509", "-in", tmp_path / "tls" / "server.pem", "-noout", "-ext",
         "subjectAltName"], check=True, capture_output=True, text=True,
    ).stdout
    for service in ("rabbitmq", "mariadb", "sim"):
        assert f"DNS:{service}" in names
    assert (tmp_path / "tls" / "client.key").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "tls").stat().st_mode & 0o777 == 0o700


def test_no_plain_amqp_reaches_a_vendor() -> None:
    # Given the broker's service and its configuration
    rabbitmq = services()["rabbitmq"]
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    # Then it publishes only AMQPS and HTTPS ports, has no plain AMQP listener, and every
    # hub service reaches it over AMQPS
    assert [port.split(":")[-1] for port in rabbitmq["ports"]] == ["5671", "15671"]
    assert "listeners.tcp = none" in conf.splitlines()
    for name, service in services().items():
        for key, value in environment(service).items():
            if key.endswith("BROKER_URL"):
                assert value.startswith("amqps://") and "@rabbitmq:5671/" in value, (name, key)


def test_no_secret_is_written_in_the_compose_file() -> None:
    # Given every environment entry of every service (and no env_file that could be committed)
    problems = [
        f"{name}: {problem}"
        for name, service in services().items()
        for key, value in environment(service).items()
        for problem in literal_secret_problems(key, value)
    ]
    # Then each secret-like value is interpolated from .env, URLs' passwords included
    assert problems == []
    assert not any("env_file" in service for service in services().values())


def test_the_secret_check_catches_literals() -> None:
    # Given literal secrets, Then the check names them; interpolated ones pass
    assert literal_secret_problems("MARIADB_ROOT_PASSWORD", "hunter2")
    assert literal_secret_problems("HUB_BROKER_URL", "amqp://hub:hunter2@rabbitmq:5672/")
    assert not literal_secret_problems("HUB_BROKER_URL", "amqp://${U:?}:${P:?}@rabbitmq:5672/")
    assert not literal_secret_problems("HUB_METRICS_HOST", "0.0.0.0")


def test_every_interpolated_variable_is_in_env_example() -> None:
    # Given the variables the compose file takes from .env, and .env.example
    used = {name for text in strings(compose()) for name in INTERPOLATION.findall(text)}
    example = env_example()
    # Then .env.example names each, uses no other, and holds no HUB_* name (the hub's settings
    # read a .env in the working directory and would pick it up on a developer's machine)
    assert used == set(example)
    assert not [name for name in example if name.startswith("HUB_")]


def test_ports_listen_on_loopback_and_the_writer_serves_metrics_on_its_port() -> None:
    # Given the published ports
    for name, service in services().items():
        for port in service.get("ports", []):
            # Then each binds 127.0.0.1 only
            assert str(port).startswith("127.0.0.1:"), (name, port)
    writer = services()["writer"]
    metrics_port = environment(writer)["HUB_METRICS_PORT"]
    assert f"127.0.0.1:{metrics_port}:{metrics_port}" in writer["ports"]
    assert environment(writer)["HUB_METRICS_HOST"] == "0.0.0.0"


def test_prometheus_scrapes_the_stack_and_loads_the_alerts() -> None:
    # Given the compose stack's Prometheus configuration
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {
        job_name: [t for c in job["static_configs"] for t in c["targets"]]
        for job_name, job in jobs.items()
    }
    metrics_port = environment(services()["writer"])["HUB_METRICS_PORT"]
    # Then the alert rules' writer job scrapes the writer's metrics port, RabbitMQ's per-object
    # endpoint is scraped, and promtool accepts the configuration with its rule file
    assert targets["hub-writer"] == [f"writer:{metrics_port}"]
    assert targets["rabbitmq"] == ["rabbitmq:15692"]
    assert jobs["rabbitmq"]["metrics_path"] == "/metrics/per-object"
    result = promtool("check", "config", PROMETHEUS_DIR / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def _container_path(service: str, source: str) -> str:
    for volume in services()[service]["volumes"]:
        parts = str(volume).split(":")
        if parts[0] == source:
            return parts[1]
    raise AssertionError(f"{service} does not mount {source}")


def test_grafana_is_provisioned_with_the_data_source_and_the_dashboards() -> None:
    # Given Grafana's provisioning files and its mounts
    datasource = yaml.safe_load((GRAFANA / "datasources" / "prometheus.yml").read_text())
    provider = yaml.safe_load((GRAFANA / "dashboards" / "hub.yml").read_text())
    (source,) = datasource["datasources"]
    (dashboards,) = provider["providers"]
    # Then the data source is the stack's Prometheus under the uid the dashboards use
    assert source["uid"] == "prometheus"
    assert urlsplit(source["url"]).hostname in services()
    # And the provider reads the folder where the generated dashboards are mounted
    assert _container_path("grafana", "./grafana/provisioning") == "/etc/grafana/provisioning"
    assert _container_path("grafana", "./grafana/dashboards") == dashboards["options"]["path"]


def test_the_compose_registry_loads_and_points_at_the_stack(tmp_path: Path) -> None:
    # Given the writer's environment with .env.example's values filled in
    example = env_example()
    env = {
        key: INTERPOLATION.sub(lambda m: example[m.group(1)], value)
        for key, value in environment(services()["writer"]).items()
    }
    registry_file = ROOT / env["HUB_REGISTRY_PATH"].removeprefix("/app/")
    # When the real loader reads the compose registry with it
    registry = load_registry(registry_file, env)
    # Then every office is reached through the stack's services
    for office in registry.offices.values():
        assert urlsplit(office.api_url).hostname in services()
        assert office.db.host in services()


def test_the_dockerfile_copies_what_the_image_needs() -> None:
    # Given the Dockerfile's COPY sources, Then each exists, and the registry path is copied
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = [s for line in re.findall(r"^COPY (.+)$", text, re.M) for s in line.split()[:-1]]
    assert all((ROOT / source).exists() for source in sources), sources
    registry_path = environment(services()["writer"])["HUB_REGISTRY_PATH"]
    assert registry_path.removeprefix("/app/") in sources
    # And it ships the product only: neither the lab (demo, chaos, bench) nor the whole tree
    assert not [s for s in sources if s.strip("./").split("/")[0] in {"lab", ""}], sources


@pytest.mark.parametrize("service", ["sim", "writer", "forms", "setup", "console"])
def test_hub_services_run_the_hub_image(service: str) -> None:
    # Given a hub service, Then it is built from this repository's Dockerfile
    assert services()[service]["build"] == "."
    assert services()[service]["image"] == "od-integration-hub:local"


def test_the_stack_s_broker_refuses_messages_above_the_hub_s_ceiling() -> None:
    # Given the compose stack's RabbitMQ configuration, mounted into the broker's conf.d
    mounts = services()["rabbitmq"]["volumes"]
    assert "./deploy/rabbitmq/rabbitmq.conf:/etc/rabbitmq/conf.d/90-hub.conf:ro" in mounts
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text()
    settings = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in conf.splitlines())
        if value and not name.lstrip().startswith("#")
    )
    # Then its max_message_size is the hub's ceiling, the largest contract's
    assert settings["max_message_size"] == str(HUB_MAX_BYTES)
