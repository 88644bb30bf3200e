"""Reading the library page by page, newest first (the web pages and their feeds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select

from bot.database import SessionFactory
from bot.library import _store as store
from bot.library.models import LibraryResource, LibraryShare, LibraryTag
from bot.library.records import Resource


@dataclass(frozen=True)
class Page:
    resources: tuple[Resource, ...]
    number: int  # from 1
    has_next: bool


@dataclass(frozen=True)
class Note:
    member_id: int
    text: str
    shared_at: datetime


class LibraryListing:
    """Read-only: never writes, so any number of processes can serve it from one database."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def page(
        self,
        guild_id: int,
        number: int = 1,
        *,
        size: int = 25,
        tag: str | None = None,
        channel_ids: Sequence[int] = (),
        tags_any: Sequence[str] = (),
    ) -> Page:
        """Live resources, newest first. `tag` narrows to one tag; `channel_ids` and `tags_any`
        (a topic: shared in its channel or carrying one of its tags) to either of them."""
        number = max(number, 1)
        clauses: list[ColumnElement[bool]] = [
            LibraryResource.guild_id == guild_id,
            LibraryResource.deleted_at.is_(None),
        ]
        if tag:
            clauses.append(
                exists().where(LibraryTag.resource_id == LibraryResource.id, LibraryTag.tag == tag)
            )
        either: list[ColumnElement[bool]] = []
        if channel_ids:
            either.append(
                exists().where(
                    LibraryShare.resource_id == LibraryResource.id,
                    LibraryShare.channel_id.in_(list(channel_ids)),
                )
            )
        if tags_any:
            either.append(
                exists().where(
                    LibraryTag.resource_id == LibraryResource.id,
                    LibraryTag.tag.in_(list(tags_any)),
                )
            )
        if either:
            clauses.append(or_(*either))
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(LibraryResource.id)
                    .where(and_(*clauses))
                    .order_by(LibraryResource.first_shared_at.desc(), LibraryResource.id.desc())
                    .offset((number - 1) * size)
                    .limit(size + 1)
                )
            )
            resources = await store.views(session, guild_id, ids[:size])
        return Page(tuple(resources), number, len(ids) > size)

    async def notes(self, guild_id: int, resource_id: int) -> list[Note]:
        """Every sharer's note on a resource, oldest first."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(LibraryShare.member_id, LibraryShare.note, LibraryShare.shared_at)
                .where(
                    LibraryShare.guild_id == guild_id,
                    LibraryShare.resource_id == resource_id,
                    LibraryShare.note.is_not(None),
                )
                .order_by(LibraryShare.shared_at, LibraryShare.id)
            )
            return [Note(m, n, at) for m, n, at in rows if n]
