# PLN bot: slim image, non-root, SQLite on the /data volume (or PostgreSQL via PLNBOT_DATABASE_URL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY discord_emulator ./discord_emulator
COPY migrations ./migrations
RUN pip install ".[postgres]" && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin pln \
    && mkdir -p /data && chown pln:pln /data
USER pln
WORKDIR /data
VOLUME ["/data"]

# The bot touches the heartbeat file every 30 s while its gateway is connected;
# `plnbot health` fails when it is older than 90 s (or missing), so Docker sees a stuck bot.
ENV PLNBOT_DATABASE_URL="sqlite+aiosqlite:////data/pln.db" \
    PLNBOT_HEALTH_HEARTBEAT_FILE="/tmp/plnbot-heartbeat"
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["plnbot", "health"]

CMD ["plnbot", "run"]
