"""Process-level settings: a typed object from a TOML file plus ``PLNBOT_*`` env overrides.

Per-guild settings (moderator role, time zone, channels) live in the database, not here.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError
from bot.tokens import token_problem

DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/pln.db"
ENV_PREFIX = "PLNBOT_"
# The port of a URL as written (user:password@host:PORT/...), and a URL's password.
_PORT = re.compile(r"://(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)")
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiscordSettings(_Section):
    token: SecretStr = SecretStr("")
    api_base_url: str = DEFAULT_API_BASE_URL
    gateway_url: str = DEFAULT_GATEWAY_URL
    # Privileged intents must also be switched on in the Developer Portal.
    message_content_intent: bool = False
    members_intent: bool = True
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: tuple[int, ...] | None = None
    # How long discord.py waits for GUILD_CREATEs before READY; tests set it near 0.
    guild_ready_timeout: float = Field(default=2.0, ge=0, le=60)

    @model_validator(mode="after")
    def _shards_need_a_count(self) -> DiscordSettings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count (the total across all processes)")
            if any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
                raise ValueError(f"every shard id must be between 0 and {self.shard_count - 1}")
        return self

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("wss://", "ws://")):
            raise ValueError("must start with wss:// or ws://")
        return value


class DatabaseSettings(_Section):
    url: str = DEFAULT_DATABASE_URL
    auto_migrate: bool = True
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _supported_backend(cls, value: str) -> str:
        # Plain driver names are accepted and mapped to the async drivers the bot needs.
        for plain, async_form in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if value.startswith(plain):
                value = async_form + value[len(plain) :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be a sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db URL"
            )
        try:
            port = make_url(value).port
        except ValueError:
            port = -1
        except ArgumentError:
            raise ValueError("is not a URL SQLAlchemy can read") from None
        if port is not None and not 1 <= port <= 65535:
            written = _PORT.search(value)
            shown = repr(written.group(1)) if written else "given"
            raise ValueError(f"the port {shown} is not a number from 1 to 65535")
        return value


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: str = ""

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class CommandSettings(_Section):
    # A member may run at most `per_user_rate` commands in `per_user_seconds` (all commands).
    per_user_rate: int = Field(default=8, ge=1, le=100)
    per_user_seconds: float = Field(default=10.0, gt=0, le=3600)


class FeedSettings(_Section):
    poll_interval_minutes: int = Field(default=30, ge=5, le=1440)
    max_feeds_per_guild: int = Field(default=50, ge=1, le=1000)
    max_concurrent_fetches: int = Field(default=4, ge=1, le=32)
    fetch_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Consecutive failed checks after which a feed is switched off (about a week with backoff).
    disable_after_failures: int = Field(default=11, ge=2, le=100)
    # Items older than this are never posted; at most this many per feed per check.
    max_item_age_days: int = Field(default=7, ge=1, le=365)
    max_items_per_check: int = Field(default=5, ge=1, le=50)
    # The most bytes read of one feed (a larger one is refused).
    max_feed_bytes: int = Field(default=5_000_000, ge=10_000, le=50_000_000)
    # Requests to one host at once.
    max_per_host: int = Field(default=2, ge=1, le=16)
    user_agent: str = "pln-bot feeds (+self-hosted Discord bot; follows feeds)"
    # Parse feeds in a worker process (true), or in a thread of the bot's (false: a 1 MB feed then
    # holds up the bot for about 0.1 s).
    parse_in_subprocess: bool = True
    # Where YouTube channel pages and feeds are (tests point it at a local server).
    youtube_origin: str = "https://www.youtube.com"


class HealthSettings(_Section):
    # Touched every 30 s while the gateway is connected; the Docker HEALTHCHECK reads its age.
    heartbeat_file: str = ""


class LibrarySettings(_Section):
    # Links to these hosts (and their subdomains) are never captured silently.
    ignored_hosts: tuple[str, ...] = ()
    # Search ranks at most this many of the newest matches, so common words stay fast.
    search_candidates: int = Field(default=2000, ge=100, le=100_000)


class WebSettings(_Section):
    # The one fetcher for pages on the web (titles now, feeds later).
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    max_bytes: int = Field(default=1_048_576, ge=1024, le=50_000_000)
    max_redirects: int = Field(default=5, ge=0, le=10)
    user_agent: str = "pln-bot (+self-hosted Discord bot; fetches page titles)"
    # False: the bot fetches nothing from the web (links keep the title members give them).
    fetch_pages: bool = True
    # Tests only: let the fetcher reach 127.0.0.1 test servers. Never enable in production.
    allow_loopback_for_tests: bool = False


class QuestionsSettings(_Section):
    # A solved question's thread is closed after this many hours without a message.
    close_after_hours: int = Field(default=48, ge=1, le=24 * 30)
    # An unanswered question is shown to the topic's followers once, after this many hours.
    nudge_after_hours: int = Field(default=12, ge=1, le=24 * 14)
    # Thanks a member may give in 24 hours (command and 🙏 reactions together).
    thanks_per_day: int = Field(default=10, ge=1, le=1000)


class WebUISettings(_Section):
    """The library on the web (bot/webui): read-only pages and Atom feeds of published guilds."""

    enabled: bool = False
    bind: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port (tests)
    # The public address readers use (behind a reverse proxy): links, feeds and /mod replies.
    base_url: str = "http://127.0.0.1:8080"
    # Searches one address may run per minute; more answer 429.
    search_per_minute: int = Field(default=30, ge=1, le=10_000)
    # Lists and feeds are kept this long once built (0: never). A removed resource may stay in
    # a list that long; its own page, search and unpublishing always answer at once.
    cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # Behind a reverse proxy every request comes from the proxy: true takes the client's address
    # from the last X-Forwarded-For entry (the one the proxy added). Only with a proxy in front.
    trust_forwarded_for: bool = False

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value.rstrip("/")


class Settings(_Section):
    discord: DiscordSettings = DiscordSettings()
    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    commands: CommandSettings = CommandSettings()
    feeds: FeedSettings = FeedSettings()
    health: HealthSettings = HealthSettings()
    library: LibrarySettings = LibrarySettings()
    web: WebSettings = WebSettings()
    questions: QuestionsSettings = QuestionsSettings()
    web_ui: WebUISettings = WebUISettings()

    def require_token(self) -> str:
        """The token, or a ConfigError if it is missing or cannot be a bot token."""
        token = self.discord.token.get_secret_value()
        if not token:
            raise ConfigError(
                "discord.token is not set. Put it in the config file under [discord] token, "
                "or set the DISCORD_TOKEN environment variable."
            )
        check_token_shape(token)
        return token


def check_token_shape(token: str) -> None:
    problem = token_problem(token)
    if problem is not None:
        raise ConfigError(
            f"discord.token (or DISCORD_TOKEN) is malformed: {problem}. Copy the token again "
            "from the Developer Portal (Bot → Reset Token)."
        )


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (``path``, else ``config.toml`` if it exists) and apply env overrides."""
    env = os.environ if env is None else env
    data = _read_toml(path)
    _apply_env(data, env)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data)) from None


def _read_toml(path: Path | None) -> dict[str, Any]:
    explicit = path is not None
    path = path or DEFAULT_CONFIG_PATH
    if not path.exists():
        if explicit:
            raise ConfigError(
                f"The config file {path} does not exist. Copy config.example.toml to {path} "
                "and edit it, or leave out --config to use defaults and environment variables."
            )
        return {}
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise ConfigError(f"The config file {path} cannot be read: {exc.strerror}.") from None


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    """``PLNBOT_SECTION_KEY=value`` overrides ``[section] key``; so does ``DISCORD_TOKEN``."""
    if env.get("DISCORD_TOKEN"):
        data.setdefault("discord", {})["token"] = env["DISCORD_TOKEN"]
    # Longest first: PLNBOT_WEB_UI_PORT is [web_ui] port, not [web] ui_port.
    sections = sorted(Settings.model_fields, key=len, reverse=True)
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in sections if rest.startswith(s + "_")), "")
        key = rest[len(section) + 1 :]
        if not section or not key:
            continue  # other PLNBOT_* variables (tests, tooling) are not settings
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] in the config file must be a table.")
        table[key] = _env_value(name, value, _is_list(section, key))


def _is_list(section: str, key: str) -> bool:
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    field = model.model_fields.get(key)
    if field is None:
        return False  # an unknown key: validation names it
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        return any(get_origin(arm) in (tuple, list) for arm in get_args(annotation))
    return get_origin(annotation) in (tuple, list)


def _env_value(name: str, raw: str, is_list: bool) -> Any:
    """Environment values are strings: pydantic coerces "true" and "5" itself. A list setting
    takes one value, comma-separated values, or a JSON list; any other setting takes the string
    as it is (a user agent may hold commas)."""
    if not is_list:
        return raw
    text = raw.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{name} = {raw!r} is not a valid JSON list ({exc.msg}). Write it as one value, "
                'comma-separated values (0,1) or a JSON list ([0, 1] or ["a.example"]).'
            ) from None
        if not isinstance(parsed, list):
            raise ConfigError(f"{name} = {raw!r} must be a list.")
        return parsed
    return [part.strip() for part in text.split(",") if part.strip()]


def _describe(error: ValidationError, data: Mapping[str, Any]) -> str:
    problems = _problems(error, data)
    if len(problems) == 1:
        return f"Invalid setting: {problems[0]} (config.example.toml lists every key)."
    lines = ["The configuration is not valid:", *(f"- {p}." for p in problems)]
    lines.append("See config.example.toml for every key, its default and what it allows.")
    return "\n".join(lines)


def _problems(error: ValidationError, data: Mapping[str, Any]) -> list[str]:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"])
        if problem["type"] == "extra_forbidden":
            known = _known_keys(problem["loc"][:-1])
            lines.append(f"{key} is not a known setting (known here: {known})")
            continue
        value = _lookup(data, problem["loc"])
        if key == "discord.token":
            shown = "<hidden>"
        elif isinstance(value, str):
            shown = repr(_PASSWORD.sub(r"\1***@", value))
        else:
            shown = repr(value)
        message = problem["msg"].removeprefix("Value error, ").rstrip(".")
        lines.append(f"{key} = {shown}: {message}")
    return lines


def _lookup(data: Mapping[str, Any], loc: tuple[int | str, ...]) -> Any:
    value: Any = data
    for part in loc:
        in_mapping = isinstance(value, Mapping) and part in value
        in_sequence = isinstance(value, list) and isinstance(part, int) and part < len(value)
        if not (in_mapping or in_sequence):
            return None
        value = value[part]
    return value


def _known_keys(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] = Settings
    for part in loc:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return ", ".join(model.model_fields)
