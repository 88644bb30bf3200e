"""HTML through Jinja2 with autoescape on: member text is always shown as text."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.errors import UserFacingError
from bot.timezones import parse_timezone


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.webui", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["path"] = path_part
    return env


def path_part(value: object) -> str:
    """One URL path segment (a tag, a topic's name): every reserved character quoted."""
    return quote(str(value), safe="")


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)


def local_date(instant: datetime, timezone: str) -> str:
    return instant.astimezone(_zone(timezone)).strftime("%Y-%m-%d")


def local_day(instant: datetime, timezone: str) -> str:
    """A reader's date, e.g. "Mon 30 Nov 2026"."""
    return instant.astimezone(_zone(timezone)).strftime("%a %d %b %Y")


@cache
def _zone(timezone: str) -> ZoneInfo:
    try:
        return parse_timezone(timezone)
    except UserFacingError:  # a zone the system no longer knows: dates in UTC
        return ZoneInfo("UTC")
