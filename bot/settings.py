"""Process-level settings: a typed object from a TOML file plus ``PLNBOT_*`` env overrides.

Per-guild settings (moderator role, time zone, channels) live in the database, not here. The
sections are msgspec structs: validated once at start, and light to import (pydantic weighed
about 7 MiB of the bot's resident memory).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from msgspec import Meta, Struct, field
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError
from bot.tokens import token_problem

DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/pln.db"
ENV_PREFIX = "PLNBOT_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# The port of a URL as written (user:password@host:PORT/...), and a URL's password.
_PORT = re.compile(r"://(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)")
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


class Secret:
    """A string that never shows in a repr, a log line or an error (the bot token)."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SettingProblem(ValueError):
    """A value a section's check refused: `key` names the field (None: the section as a whole)."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key


# Every section says frozen=True again: msgspec inherits it, type checkers read it per class.
class _Section(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    def _set(self, key: str, value: object) -> None:
        """A check's normalised value (a URL without its trailing slash), kept in place."""
        msgspec.structs.force_setattr(self, key, value)


def _http_url(key: str, value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise SettingProblem(key, "must start with https:// or http://")
    return value.rstrip("/")


class DiscordSettings(_Section, frozen=True):
    token: Secret = field(default_factory=Secret)
    api_base_url: str = DEFAULT_API_BASE_URL
    gateway_url: str = DEFAULT_GATEWAY_URL
    # Privileged intents must also be switched on in the Developer Portal.
    message_content_intent: bool = False
    members_intent: bool = True
    shard_count: Annotated[int, Meta(ge=1)] | None = None
    shard_ids: tuple[int, ...] | None = None
    # How long discord.py waits for GUILD_CREATEs before READY; tests set it near 0.
    guild_ready_timeout: Annotated[float, Meta(ge=0, le=60)] = 2.0

    def __post_init__(self) -> None:
        self._set("api_base_url", _http_url("api_base_url", self.api_base_url))
        if not self.gateway_url.startswith(("wss://", "ws://")):
            raise SettingProblem("gateway_url", "must start with wss:// or ws://")
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise SettingProblem(
                    None, "shard_ids needs shard_count (the total across all processes)"
                )
            if any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
                raise SettingProblem(
                    "shard_ids", f"every shard id must be between 0 and {self.shard_count - 1}"
                )


class DatabaseSettings(_Section, frozen=True):
    url: str = DEFAULT_DATABASE_URL
    auto_migrate: bool = True
    echo: bool = False

    def __post_init__(self) -> None:
        self._set("url", _supported_database_url(self.url))


def _supported_database_url(value: str) -> str:
    # Plain driver names are accepted and mapped to the async drivers the bot needs.
    for plain, async_form in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if value.startswith(plain):
            value = async_form + value[len(plain) :]
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingProblem(
            "url", "must be a sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db URL"
        )
    try:
        port = make_url(value).port
    except ValueError:
        port = -1
    except ArgumentError:
        raise SettingProblem("url", "is not a URL SQLAlchemy can read") from None
    if port is not None and not 1 <= port <= 65535:
        written = _PORT.search(value)
        shown = repr(written.group(1)) if written else "given"
        raise SettingProblem("url", f"the port {shown} is not a number from 1 to 65535")
    return value


class LoggingSettings(_Section, frozen=True):
    level: str = "INFO"
    file: str = ""

    def __post_init__(self) -> None:
        if self.level.upper() not in LOG_LEVELS:
            raise SettingProblem("level", f"must be one of {', '.join(LOG_LEVELS)}")
        self._set("level", self.level.upper())


class CommandSettings(_Section, frozen=True):
    # A member may run at most `per_user_rate` commands in `per_user_seconds` (all commands).
    per_user_rate: Annotated[int, Meta(ge=1, le=100)] = 8
    per_user_seconds: Annotated[float, Meta(gt=0, le=3600)] = 10.0


class FeedSettings(_Section, frozen=True):
    poll_interval_minutes: Annotated[int, Meta(ge=5, le=1440)] = 30
    max_feeds_per_guild: Annotated[int, Meta(ge=1, le=1000)] = 50
    max_concurrent_fetches: Annotated[int, Meta(ge=1, le=32)] = 4
    fetch_timeout_seconds: Annotated[float, Meta(gt=0, le=120)] = 10.0
    # Consecutive failed checks after which a feed is switched off (about a week with backoff).
    disable_after_failures: Annotated[int, Meta(ge=2, le=100)] = 11
    # Items older than this are never posted; at most this many per feed per check.
    max_item_age_days: Annotated[int, Meta(ge=1, le=365)] = 7
    max_items_per_check: Annotated[int, Meta(ge=1, le=50)] = 5
    # The most bytes read of one feed (a larger one is refused).
    max_feed_bytes: Annotated[int, Meta(ge=10_000, le=50_000_000)] = 5_000_000
    # Requests to one host at once.
    max_per_host: Annotated[int, Meta(ge=1, le=16)] = 2
    user_agent: str = "pln-bot feeds (+self-hosted Discord bot; follows feeds)"
    # Parse feeds in a worker process (true), or in a thread of the bot's (false: a 1 MB feed then
    # holds up the bot for about 0.1 s).
    parse_in_subprocess: bool = True
    # Where YouTube channel pages and feeds are (tests point it at a local server).
    youtube_origin: str = "https://www.youtube.com"


class HealthSettings(_Section, frozen=True):
    # Touched every 30 s while the gateway is connected; the Docker HEALTHCHECK reads its age.
    heartbeat_file: str = ""


class LibrarySettings(_Section, frozen=True):
    # Links to these hosts (and their subdomains) are never captured silently.
    ignored_hosts: tuple[str, ...] = ()
    # Search ranks at most this many of the newest matches, so common words stay fast.
    search_candidates: Annotated[int, Meta(ge=100, le=100_000)] = 2000


class WebSettings(_Section, frozen=True):
    # The one fetcher for pages on the web (titles now, feeds later).
    timeout_seconds: Annotated[float, Meta(gt=0, le=60)] = 5.0
    max_bytes: Annotated[int, Meta(ge=1024, le=50_000_000)] = 1_048_576
    max_redirects: Annotated[int, Meta(ge=0, le=10)] = 5
    user_agent: str = "pln-bot (+self-hosted Discord bot; fetches page titles)"
    # False: the bot fetches nothing from the web (links keep the title members give them).
    fetch_pages: bool = True
    # Tests only: let the fetcher reach 127.0.0.1 test servers. Never enable in production.
    allow_loopback_for_tests: bool = False


class QuestionsSettings(_Section, frozen=True):
    # A solved question's thread is closed after this many hours without a message.
    close_after_hours: Annotated[int, Meta(ge=1, le=24 * 30)] = 48
    # An unanswered question is shown to the topic's followers once, after this many hours.
    nudge_after_hours: Annotated[int, Meta(ge=1, le=24 * 14)] = 12
    # Thanks a member may give in 24 hours (command and 🙏 reactions together).
    thanks_per_day: Annotated[int, Meta(ge=1, le=1000)] = 10


class WebUISettings(_Section, frozen=True):
    """The library on the web (bot/webui): read-only pages and Atom feeds of published guilds."""

    enabled: bool = False
    bind: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8080  # 0: any free port (tests)
    # The public address readers use (behind a reverse proxy): links, feeds and /mod replies.
    base_url: str = "http://127.0.0.1:8080"
    # Searches one address may run per minute; more answer 429.
    search_per_minute: Annotated[int, Meta(ge=1, le=10_000)] = 30
    # Lists and feeds are kept this long once built (0: never). A removed resource may stay in
    # a list that long; its own page, search and unpublishing always answer at once.
    cache_seconds: Annotated[float, Meta(ge=0, le=300)] = 5.0
    # Behind a reverse proxy every request comes from the proxy: true takes the client's address
    # from the last X-Forwarded-For entry (the one the proxy added). Only with a proxy in front.
    trust_forwarded_for: bool = False

    def __post_init__(self) -> None:
        self._set("base_url", _http_url("base_url", self.base_url))


class Settings(_Section, frozen=True):
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    commands: CommandSettings = field(default_factory=CommandSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    library: LibrarySettings = field(default_factory=LibrarySettings)
    web: WebSettings = field(default_factory=WebSettings)
    questions: QuestionsSettings = field(default_factory=QuestionsSettings)
    web_ui: WebUISettings = field(default_factory=WebUISettings)

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


def section_fields(section: type[Struct]) -> dict[str, Any]:
    """A section's keys and their types, in the order config.example.toml lists them."""
    return {info.name: info.type for info in msgspec.structs.fields(section)}


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
        # Not strict: environment values are strings, and "true" or "5" are read as the bool or
        # number the setting needs.
        return msgspec.convert(data, Settings, strict=False, dec_hook=_secret)
    except msgspec.ValidationError as error:
        problem = _problem(error, data)
        raise ConfigError(
            f"Invalid setting: {problem} (config.example.toml lists every key)."
        ) from None


def _secret(kind: type, value: Any) -> Secret:
    if kind is Secret and isinstance(value, str):
        return Secret(value)
    raise TypeError(f"Expected `str`, got `{type(value).__name__}`")


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
    sections = section_fields(Settings)
    names = sorted(sections, key=len, reverse=True)
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in names if rest.startswith(s + "_")), "")
        key = rest[len(section) + 1 :]
        if not section or not key:
            continue  # other PLNBOT_* variables (tests, tooling) are not settings
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] in the config file must be a table.")
        kind = section_fields(sections[section]).get(key)
        table[key] = _env_value(name, value, _is_list(kind))


def _is_list(kind: Any) -> bool:
    if get_origin(kind) in (Union, types.UnionType):
        return any(get_origin(arm) in (tuple, list) for arm in get_args(kind))
    return get_origin(kind) in (tuple, list)


def _env_value(name: str, raw: str, is_list: bool) -> Any:
    """A list setting takes one value, comma-separated values, or a JSON list; any other setting
    takes the string as it is (a user agent may hold commas)."""
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


# msgspec's messages end with where the value is ("- at `$.discord.shard_ids[1]`") and name
# types as JSON does; a setting's readers know TOML's words.
_WHERE = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]*)`$")
_TYPE_WORDS = {
    "`int | null`": "a whole number",
    "`float | null`": "a number",
    "`tuple | null`": "a list",
    "`array | null`": "a list",
    "`int`": "a whole number",
    "`float`": "a number",
    "`bool`": "true or false",
    "`str`": "a string",
    "`array`": "a list",
    "`tuple`": "a list",
    "`object`": "a table",
    "`null`": "nothing",
}


def _problem(error: msgspec.ValidationError, data: Mapping[str, Any]) -> str:
    """The key, the value as given (never the token, nor a URL's password) and what the key
    allows. msgspec stops at the first problem, so an operator sees one at a time."""
    where = _WHERE.match(str(error))
    assert where is not None  # the pattern matches any text
    loc = [
        int(part) if part.isdigit() else part
        for part in re.findall(r"[^.\[\]]+", where["path"] or "")
    ]
    message = where["message"]
    unknown = _UNKNOWN.match(message)
    if unknown:
        known = ", ".join(section_fields(_section_at(loc)))
        key = _key([*loc, unknown["key"]])
        return f"{key} is not a known setting (known here: {known})"
    cause = error.__cause__
    if isinstance(cause, SettingProblem):
        if cause.key is None:
            return f"[{_key(loc)}] {cause}"
        loc.append(cause.key)
    for word, plain in _TYPE_WORDS.items():
        message = message.replace(word, plain)
    message = message[:1].lower() + message[1:]
    key = _key(loc)
    value = _lookup(data, loc)
    if key.startswith("discord.token"):
        shown = "<hidden>"
    elif isinstance(value, str):
        shown = repr(_PASSWORD.sub(r"\1***@", value))
    else:
        shown = repr(value)
    return f"{key} = {shown}: {message}"


def _key(loc: list[int | str]) -> str:
    """discord.shard_ids[1], as the key is written."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)[1:]


def _lookup(data: Mapping[str, Any], loc: list[int | str]) -> Any:
    value: Any = data
    for part in loc:
        in_mapping = isinstance(value, Mapping) and part in value
        in_sequence = isinstance(value, list) and isinstance(part, int) and part < len(value)
        if not (in_mapping or in_sequence):
            return None
        value = value[part]
    return value


def _section_at(loc: list[int | str]) -> type[Struct]:
    section: type[Struct] = Settings
    for part in loc:
        kind = section_fields(section).get(str(part))
        if not (isinstance(kind, type) and issubclass(kind, Struct)):
            break
        section = kind
    return section
