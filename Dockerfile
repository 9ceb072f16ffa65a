# syntax=docker/dockerfile:1
# MovR container image: python:3.11-slim, non-root, locked dependencies, health-checked.
# The deployment guide is docs/deploy.md. In short:
#
#   docker build -t movr .
#   docker run --rm -e DATABASE_URL=… movr movr db upgrade          # migrations: a separate step
#   docker run -d -p 8000:8000 --stop-timeout 30 \
#       -e DATABASE_URL=… -e SECRET_KEY=… -e MOVR_REGION=gcp-us-east1 movr
#
# Production needs DATABASE_URL and SECRET_KEY. The app refuses to start without SECRET_KEY.
# Without DATABASE_URL, `movr serve` and `movr db upgrade|seed|purge` would start an embedded
# PostgreSQL inside the container: fine for a demo on a laptop, wrong for a container (data
# lost with it, one database per replica), so the entrypoint below refuses those commands
# when DATABASE_URL is unset. `docker run --entrypoint movr …` bypasses the check.
#
# tests/cli/test_wheel.py runs this file's steps (wheel, clean venv, hash-checked install,
# ENTRYPOINT, CMD and HEALTHCHECK) on a development machine against a real PostgreSQL.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the MovR wheel (sources only; tests and tooling never enter the image) ---------
FROM ${PYTHON_IMAGE} AS build
# Build-time only (ARGs are visible to RUN, not kept in the image).
ARG PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip wheel --no-deps -w /wheels .

# --- runtime: a venv with the locked runtime dependencies and the wheel ----------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN groupadd --system --gid 10001 movr \
    && useradd --system --uid 10001 --gid movr --home-dir /var/lib/movr --no-create-home \
        --shell /usr/sbin/nologin movr \
    && mkdir -p /var/lib/movr \
    && chown movr:movr /var/lib/movr \
    && python -m venv /opt/movr
# Exact versions with hashes (`make lock`); bind mounts keep the lock file and the wheel out of
# the image's layers.
RUN --mount=type=bind,source=requirements-runtime.lock,target=/tmp/requirements-runtime.lock \
    /opt/movr/bin/pip install --require-hashes -r /tmp/requirements-runtime.lock
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    /opt/movr/bin/pip install --no-deps /wheels/movr-*.whl

# MOVR_DATA_DIR holds gunicorn's multiprocess metrics files (and nothing else when DATABASE_URL
# is set); it must be writable by movr (a tmpfs with --read-only).
ENV PATH=/opt/movr/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MOVR_DATA_DIR=/var/lib/movr \
    PORT=8000
# The working directory stays `/` (not writable by movr: `python -m` puts it on sys.path).
USER movr
EXPOSE 8000
# Liveness only (no database access); readiness is GET /readyz, for the orchestrator or the load
# balancer. Slim images have no curl: Python's urllib does the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/healthz', timeout=3)"
# Refuse to run the server or migrations on an embedded database; `exec` keeps movr as PID 1,
# so SIGTERM (docker stop) reaches it and gunicorn drains in-flight requests (up to 20 s).
ENTRYPOINT ["/bin/sh", "-c", "case \"$1 $2 $3\" in 'movr serve'*|'movr db upgrade'|'movr db seed'|'movr db purge') if [ -z \"$DATABASE_URL\" ]; then echo \"movr: DATABASE_URL is required in this image (see docs/deploy.md)\" >&2; exit 64; fi;; esac; exec \"$@\"", "movr-entrypoint"]
CMD ["movr", "serve"]
