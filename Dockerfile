# The main server (REST + MCP over Streamable HTTP at /mcp) in a container: Cloud Run (seed 001,
# `gcloud run deploy --source .`) and docker compose (seed 002) both build this file.
# tests/test_image.py runs the builder's RUN commands, the CMD and the HEALTHCHECK on a test machine
# (no image registry there): RUN commands name container paths only through variables ($VIRTUAL_ENV).
ARG PYTHON_IMAGE=python:3.12-slim

# -- builder: our wheel and every dependency (all published as wheels: no compiler) into one venv --
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    VIRTUAL_ENV=/opt/venv
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# The venv gets no pip of its own: the base image's pip installs into it, so the image can't install anything.
RUN python -m venv --without-pip "$VIRTUAL_ENV" \
    && pip --python "$VIRTUAL_ENV/bin/python" install .

# -- the image: the same Python, the venv, a user without privileges; nothing of the build ---------
FROM ${PYTHON_IMAGE}
RUN useradd --create-home --uid 10001 salesmcp
COPY --from=builder /opt/venv /opt/venv
# Containers listen on every interface; Cloud Run sets PORT itself (default 8080), compose sets 8000.
# Serving a non-loopback HOST needs a token source (API_TOKEN, API_TOKENS, OAUTH_*), or
# ALLOW_UNAUTHENTICATED=true when something else guards the server (Cloud Run's IAM, a port published on
# loopback only): the image sets neither, so it refuses to start until you choose.
# WEB_CONCURRENCY (worker processes) is left to the deployment: Cloud Run sizes it with --cpu.
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json
USER salesmcp
# Without DATABASE_URL (or MYSQL_*), SQLite at /home/salesmcp/data/customers.db: gone with the container.
WORKDIR /home/salesmcp
EXPOSE 8080

# Liveness: the process answers (/health/ready also asks the database). docker-compose.yml runs the same.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8080'), timeout=4)"]

CMD ["salesmcp", "serve"]
