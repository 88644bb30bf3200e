# PLN bot: slim image, non-root, SQLite on the /data volume (or PostgreSQL via PLNBOT_DATABASE_URL).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Exact versions of everything installed, build tools included (see requirements-docker.txt).
COPY requirements-docker.txt ./
RUN pip install --no-cache-dir --requirement requirements-docker.txt
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY discord_emulator ./discord_emulator
COPY pln_demo ./pln_demo
COPY migrations ./migrations
# The bot alone: its dependencies are the pinned ones above.
RUN pip install --no-cache-dir --no-build-isolation --no-deps /src && rm -rf /src
# A starting point for /data/config.toml: docker run --rm pln-bot cat /usr/local/share/pln-bot/config.example.toml
COPY config.example.toml /usr/local/share/pln-bot/config.example.toml

RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin pln \
    && mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
# /data holds the SQLite database (PLNBOT_DATABASE_URL below) and config.toml, if you mount one.
WORKDIR /data
VOLUME ["/data"]

# The bot touches the heartbeat file every 30 s while its gateway is connected;
# `plnbot health` fails when it is older than 90 s (or missing), so Docker sees a stuck bot.
ENV PLNBOT_DATABASE_URL="sqlite+aiosqlite:////data/pln.db" \
    PLNBOT_HEALTH_HEARTBEAT_FILE="/tmp/plnbot-heartbeat"
# With the web UI on (PLNBOT_WEB_UI_ENABLED=true), `plnbot health` also asks its /healthz; set
# PLNBOT_WEB_UI_BIND=0.0.0.0 to reach it from outside the container (-p 8080:8080).
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["plnbot", "health"]

CMD ["plnbot", "run"]
