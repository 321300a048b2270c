"""Reading docker-compose.yml and .env.example for the compose tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA_FILE = ROOT / "deploy" / "compose-spec" / "compose-spec.json"
# ${VAR}, ${VAR:?message}, ${VAR:-default} ...
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?+-][^}]*)?\}")
SECRETISH_KEY = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
URL_USERINFO = re.compile(r"://([^/@\s]*)@")
# user:password, where the user may itself be an interpolation holding a colon
_USER_PASSWORD = re.compile(r"^(?:\$\{[^}]*\}|[^:]*):(.*)$")


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return document


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def strings(node: object) -> list[str]:
    """Every string value in a parsed YAML document (keys left out)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return []


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment is written as a mapping"
    return {str(key): str(value) for key, value in env.items()}


def is_interpolated(value: str) -> bool:
    """The whole value comes from the environment: ``${VAR...}`` and nothing else."""
    return INTERPOLATION.fullmatch(value) is not None


def literal_secret_problems(name: str, value: str) -> list[str]:
    """Why this environment entry would put a secret in the compose file, if it does."""
    problems = []
    # A *_FILE setting names where a mounted secret lies (a TLS key), not the secret itself.
    names_a_file = name.endswith("_FILE") and value.startswith("/")
    if SECRETISH_KEY.search(name) and not is_interpolated(value) and not names_a_file:
        problems.append(f"{name} is not interpolated")
    for userinfo in URL_USERINFO.findall(value):
        split = _USER_PASSWORD.match(userinfo)
        password = split.group(1) if split else ""
        if password and not is_interpolated(password):
            problems.append(f"{name} holds a URL password")
    return problems
