"""What the feeds service returns, and what it asks of the Discord side to post an item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from bot.feeds.models import Feed
from bot.scheduling import OutboxScope

Mode = Literal["post", "thread", "digest"]
MODES: tuple[Mode, ...] = ("post", "thread", "digest")


@dataclass(frozen=True)
class FeedInfo:
    id: int
    guild_id: int
    url: str
    site_url: str | None
    title: str
    topic_id: int | None
    channel_id: int
    tags: tuple[str, ...]
    mode: str
    filter: str
    no_shorts: bool
    digest_time: str
    next_check_at: datetime | None
    checked_at: datetime | None
    failures: int
    failing_since: datetime | None
    last_error: str | None
    disabled_reason: str | None
    paused: bool
    last_item_at: datetime | None
    items_posted: int
    created_at: datetime

    @property
    def state(self) -> Literal["ok", "failing", "disabled", "paused"]:
        if self.disabled_reason:
            return "disabled"
        if self.paused:
            return "paused"
        return "failing" if self.failures else "ok"


def info_of(row: Feed) -> FeedInfo:
    return FeedInfo(
        id=row.id,
        guild_id=row.guild_id,
        url=row.url,
        site_url=row.site_url,
        title=row.title,
        topic_id=row.topic_id,
        channel_id=row.channel_id,
        tags=tuple(row.tags or ()),
        mode=row.mode,
        filter=row.filter,
        no_shorts=row.no_shorts,
        digest_time=row.digest_time,
        next_check_at=row.next_check_at,
        checked_at=row.checked_at,
        failures=row.failures,
        failing_since=row.failing_since,
        last_error=row.last_error,
        disabled_reason=row.disabled_reason,
        paused=row.paused,
        last_item_at=row.last_item_at,
        items_posted=row.items_posted,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class Posted:
    """Where an item went: its message (or forum post), and who the library shows as sharer."""

    channel_id: int
    message_id: int
    poster_id: int


class DeliveryBroken(Exception):
    """The feed's channel is gone, or the bot may not post there (the check fails with this)."""


class Deliverer(Protocol):
    """The Discord side: posts one item (its stored payload) through the outbox, once."""

    async def item(
        self, feed: FeedInfo, payload: dict[str, Any], scope: OutboxScope, part: str
    ) -> Posted: ...

    async def digest(
        self, feed: FeedInfo, payloads: list[dict[str, Any]], scope: OutboxScope, keys: list[str]
    ) -> Posted:
        """One message listing the items; `keys` go in the outbox memo (part "digest")."""
        ...
