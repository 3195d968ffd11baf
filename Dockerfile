# The main server (REST + MCP over Streamable HTTP at /mcp) in a container: Cloud Run (seed 001,
# `gcloud run deploy --source .`) and docker compose (seed 002) both build this file.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && useradd --create-home --uid 10001 salesmcp \
    && mkdir -p /app/data \
    && chown salesmcp /app/data

# Containers listen on every interface; Cloud Run sets PORT itself (default 8080), compose sets 8000.
# Serving a non-loopback HOST needs API_TOKEN, or ALLOW_UNAUTHENTICATED=true when something else
# (Cloud Run's IAM, a port published on loopback only) guards the server: set one when you run it.
ENV HOST=0.0.0.0 \
    PORT=8080
USER salesmcp
EXPOSE 8080

# /health answers 200 once the database answers. tests/test_deployment.py runs this very command.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=4)"]

CMD ["salesmcp", "serve"]
