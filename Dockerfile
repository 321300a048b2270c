# The hub's image: every `hub` command (worker, sim, forms, migrate, topology, vendor ...).
# docker-compose.yml builds it; it holds no secret (settings come from the environment).
# The product only: lab/ (demo, chaos, bench) is not copied, so `hub --help` here leaves its
# commands out and `hub demo` says it is not installed (hub/cli/extra_commands.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Every dependency ships a wheel, so no compiler is needed.
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY contracts ./contracts
COPY odsim ./odsim
COPY adapters ./adapters
RUN pip install .

COPY registry.toml registry.example.toml ./
COPY deploy/registry.compose.toml ./deploy/

RUN useradd --system --uid 10001 --no-create-home hub
USER hub

# 9464: the writer's /metrics, /healthz, /readyz; 8088: hub forms; 30223: hub sim.
EXPOSE 9464 8088 30223
CMD ["hub", "--help"]
