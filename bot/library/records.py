"""What the library service returns: plain frozen dataclasses, no ORM objects, no Discord."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Resource:
    id: int
    guild_id: int
    url: str
    canonical_url: str
    domain: str
    title: str | None
    note: str | None
    tags: tuple[str, ...]
    first_sharer_id: int
    first_shared_at: datetime
    shares: int = 0
    votes: int = 0
    saves: int = 0
    deleted: bool = False

    @property
    def display_title(self) -> str:
        return self.title or self.url


@dataclass(frozen=True)
class ShareRef:
    """Where a share happened, for jump links: channel and message ids (message may be unknown)."""

    member_id: int
    shared_at: datetime
    channel_id: int
    message_id: int | None


@dataclass(frozen=True)
class ShareResult:
    resource: Resource
    share_id: int
    # Set when the link was already in the library: who shared it first, when and where.
    first_share: ShareRef | None

    @property
    def duplicate(self) -> bool:
        return self.first_share is not None


@dataclass(frozen=True)
class CapturedLink:
    resource_id: int
    share_id: int
    canonical_url: str
    new_resource: bool


@dataclass(frozen=True)
class TagCount:
    tag: str
    count: int


@dataclass(frozen=True)
class CaptureChannel:
    channel_id: int
    default_tags: tuple[str, ...]
    source: str
