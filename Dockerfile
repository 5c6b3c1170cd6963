# syntax=docker/dockerfile:1
# The UMKM e-Katalog bot's runtime image: the installed app and its texts, nothing for development.
#   docker build -t umkm-bot .
#   docker compose up -d        (compose.yaml: web, worker, PostgreSQL, MinIO; see docs/deploy.md)
# Settings come from the environment (.env.example lists them all); the image holds no secrets.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
# The project and its runtime dependencies only (not the `dev` extra: no tests, linters or browsers).
RUN pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TEMPLATES_DIR=/app/templates
RUN groupadd --system --gid 10001 umkm \
    && useradd --system --uid 10001 --gid umkm --home-dir /app --no-create-home --shell /usr/sbin/nologin umkm
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Every word a person reads (jinja2 templates): not inside the Python package, so TEMPLATES_DIR points here.
COPY templates ./templates
# data/: the SQLite database and photos when no DATABASE_URL / MEDIA_URL is given; mount a volume here.
RUN mkdir -p /app/data/media && chown -R umkm:umkm /app/data
USER 10001:10001
EXPOSE 8080
# Liveness: /healthz answers 200 while the process runs and reaches its database (python: slim has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# `run` migrates the database, then serves the webhooks, /dinas/ and the health checks, and delivers messages.
CMD ["umkm-bot", "run", "--host", "0.0.0.0", "--port", "8080"]
