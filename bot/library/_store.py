"""The library service's building blocks: each runs inside the caller's session and transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CursorResult,
    Result,
    Table,
    Text,
    bindparam,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from bot.errors import UserFacingError
from bot.library.records import Resource, ShareRef
from bot.library.urls import Link
from bot.models import Guild
from bot.models.base import Base
from bot.models.library import (
    LibraryResource,
    LibrarySave,
    LibraryShare,
    LibraryTag,
    LibraryVote,
)

MAX_SEARCH_TEXT = 4000
_URL_WORDS = re.compile(r"[^\W_]+")
_URL_NOISE = frozenset({"http", "https", "www", "html", "htm", "php", "com"})


def clean_optional(text: str | None, limit: int, what: str) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > limit:
        raise UserFacingError(f"The {what} is longer than {limit} characters ({len(text)}).")
    return text or None


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Shares are written through Core, not the unit of work: one statement per table, no flush, no
# re-reading of what the transaction just wrote, each statement compiled once and then cached.
_RESOURCES = _table(LibraryResource)
_SHARES = _table(LibraryShare)
_TAGS = _table(LibraryTag)
_INSERT_SHARE = insert(_SHARES)
_INSERT_TAGS = insert(_TAGS)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@cache
def _insert_resource(dialect: str) -> Insert:
    """Insert unless the guild already has the URL (then nothing is written: rowcount 0)."""
    unique = [_RESOURCES.c.guild_id, _RESOURCES.c.canonical_url]
    if dialect != "postgresql":
        # SQLite's FTS5 table follows search_text through a trigger.
        return sqlite_insert(_RESOURCES).on_conflict_do_nothing(index_elements=unique)
    # PostgreSQL indexes search_vector, computed from the same text.
    text = bindparam("vector_text", type_=Text())
    statement = postgresql_insert(_RESOURCES).values(search_vector=func.to_tsvector("simple", text))
    return statement.on_conflict_do_nothing(index_elements=unique)


async def add_resource(
    session: AsyncSession,
    guild_id: int,
    link: Link,
    sharer_id: int,
    now: datetime,
    tags: Sequence[str],
    title: str | None = None,
    note: str | None = None,
) -> Resource | None:
    """The link as a new resource with its tags, shared once; None if the guild already has it.

    Trying the insert first makes a new link cost one statement, not a lookup and an insert, and
    takes SQLite's write lock at once (a lookup first would start a read transaction that cannot
    become a write if another writer commits in between).
    """
    text = search_text_for(title, [note], link.canonical, tags)
    values = {
        "guild_id": guild_id,
        "canonical_url": link.canonical,
        "url": link.original,
        "domain": link.domain,
        "title": title,
        "title_source": "member" if title else "",
        "note": note,
        "first_sharer_id": sharer_id,
        "first_shared_at": now,
        "search_text": text,
    }
    dialect = _dialect(session)
    if dialect == "postgresql":
        values["vector_text"] = text
    result = await session.execute(_insert_resource(dialect), values)
    resource_id = _inserted_id(result)
    if resource_id is None:
        return None
    await add_tags(session, guild_id, resource_id, tags)
    return Resource(
        id=resource_id,
        guild_id=guild_id,
        url=link.original,
        canonical_url=link.canonical,
        domain=link.domain,
        title=title,
        note=note,
        tags=tuple(sorted(tags)),
        first_sharer_id=sharer_id,
        first_shared_at=now,
        shares=1,
    )


async def add_tags(
    session: AsyncSession, guild_id: int, resource_id: int, tags: Sequence[str]
) -> None:
    """Give a resource tags it does not carry yet (migration 0006's triggers count them)."""
    if not tags:
        return
    await session.execute(
        _INSERT_TAGS, [{"resource_id": resource_id, "tag": t, "guild_id": guild_id} for t in tags]
    )


async def add_share(
    session: AsyncSession,
    *,
    guild_id: int,
    resource_id: int,
    member_id: int,
    member_is_bot: bool,
    channel_id: int,
    message_id: int | None,
    note: str | None,
    source: str,
    shared_at: datetime,
) -> int:
    """Record one share; returns its id (SQLite's lastrowid, RETURNING on PostgreSQL)."""
    result = await session.execute(
        _INSERT_SHARE,
        {
            "guild_id": guild_id,
            "resource_id": resource_id,
            "member_id": member_id,
            "member_is_bot": member_is_bot,
            "channel_id": channel_id,
            "message_id": message_id,
            "note": note,
            "source": source,
            "shared_at": shared_at,
        },
    )
    share_id = _inserted_id(result)
    assert share_id is not None
    return share_id


def _inserted_id(result: Result[Any]) -> int | None:
    """The new row's id (SQLite's lastrowid, no fetch; RETURNING on PostgreSQL), None if none."""
    assert isinstance(result, CursorResult)
    if result.rowcount != 1 or result.inserted_primary_key is None:
        return None
    row_id: int = result.inserted_primary_key[0]
    return row_id


async def ensure_guild(
    session: AsyncSession, guild_id: int, name: str | None, now: datetime
) -> bool:
    """Create the guild's row if missing (name may be unknown); True if it already existed."""
    guild = await session.get(Guild, guild_id)
    if guild is None:
        session.add(Guild(id=guild_id, name=(name or "")[:100], timezone="UTC", joined_at=now))
        await session.flush()
        return False
    if name and guild.name != name[:100]:
        guild.name = name[:100]
    return True


async def resource_by_url(session: AsyncSession, guild_id: int, canonical: str) -> LibraryResource:
    """The guild's resource for a URL that `add_resource` found already there."""
    resource: LibraryResource | None = await session.scalar(
        select(LibraryResource).where(
            LibraryResource.guild_id == guild_id, LibraryResource.canonical_url == canonical
        )
    )
    if resource is None:  # deleted (with its guild) since the insert saw it: nothing to add to
        raise LookupError(f"no resource for {canonical} in guild {guild_id}")
    return resource


async def live_resource(session: AsyncSession, guild_id: int, resource_id: int) -> LibraryResource:
    resource = await session.get(LibraryResource, resource_id)
    if resource is None or resource.guild_id != guild_id or resource.deleted_at is not None:
        raise UserFacingError(f"There is no resource #{resource_id} in this server's library.")
    return resource


async def require_sharer_or_moderator(
    session: AsyncSession, resource: LibraryResource, actor_id: int, is_moderator: bool
) -> None:
    if is_moderator or resource.first_sharer_id == actor_id:
        return
    shared = await session.scalar(
        select(LibraryShare.id).where(
            LibraryShare.resource_id == resource.id, LibraryShare.member_id == actor_id
        )
    )
    if shared is None:
        raise UserFacingError("Only a member who shared this resource or a moderator can do that.")


async def first_share(session: AsyncSession, resource_id: int) -> ShareRef | None:
    row = await session.scalar(
        select(LibraryShare)
        .where(LibraryShare.resource_id == resource_id)
        .order_by(LibraryShare.shared_at, LibraryShare.id)
        .limit(1)
    )
    if row is None:
        return None
    return ShareRef(row.member_id, row.shared_at, row.channel_id, row.message_id)


async def tags_of(session: AsyncSession, resource_id: int) -> list[str]:
    rows = await session.scalars(
        select(LibraryTag.tag).where(LibraryTag.resource_id == resource_id).order_by(LibraryTag.tag)
    )
    return list(rows)


async def resources_of_message(session: AsyncSession, guild_id: int, message_id: int) -> list[int]:
    rows = await session.scalars(
        select(LibraryShare.resource_id)
        .join(LibraryResource, LibraryResource.id == LibraryShare.resource_id)
        .where(
            LibraryShare.guild_id == guild_id,
            LibraryShare.message_id == message_id,
            LibraryResource.deleted_at.is_(None),
        )
        .distinct()
    )
    return list(rows)


async def add_save(
    session: AsyncSession, guild_id: int, resource_id: int, member_id: int, now: datetime
) -> int:
    if await session.get(LibrarySave, (resource_id, member_id)) is not None:
        return 0
    session.add(
        LibrarySave(resource_id=resource_id, member_id=member_id, guild_id=guild_id, saved_at=now)
    )
    await session.flush()
    return 1


def search_text_for(
    title: str | None, notes: Iterable[str | None], url: str, tags: Iterable[str]
) -> str:
    """The text the full-text index holds: title, notes, URL words and tags."""
    url_words = [w for w in _URL_WORDS.findall(url.lower()) if w not in _URL_NOISE]
    unique_notes = dict.fromkeys(n for n in notes if n)
    parts = [title or "", *unique_notes, " ".join(url_words), " ".join(tags)]
    return " \n".join(p for p in parts if p)[:MAX_SEARCH_TEXT]


async def refresh_search(
    session: AsyncSession, resource: LibraryResource, tags: Sequence[str]
) -> None:
    """Rebuild the searchable text (title, every share's note, URL words, tags).

    Shares are written at once (`add_share`), so the notes are read without a flush: changes
    to the resource then reach the database in one UPDATE, with its new text.
    """
    with session.no_autoflush:
        notes = await session.scalars(
            select(LibraryShare.note)
            .where(LibraryShare.resource_id == resource.id, LibraryShare.note.is_not(None))
            .group_by(LibraryShare.note)
            .order_by(func.min(LibraryShare.id))
            .limit(20)
        )
    text = search_text_for(resource.title, [resource.note, *notes], resource.canonical_url, tags)
    if text == resource.search_text:
        return
    resource.search_text = text
    if session.get_bind().dialect.name == "postgresql":
        # SQLite's FTS5 table follows search_text through triggers; PostgreSQL indexes this column.
        resource.search_vector = func.to_tsvector("simple", text)


async def view(session: AsyncSession, resource: LibraryResource, tags: Sequence[str]) -> Resource:
    counts = await counts_of(session, [resource.id])
    return to_record(resource, tags, counts.get(resource.id, (0, 0, 0)))


async def views(session: AsyncSession, guild_id: int, ids: Sequence[int]) -> list[Resource]:
    if not ids:
        return []
    rows = await session.scalars(
        select(LibraryResource).where(
            LibraryResource.guild_id == guild_id, LibraryResource.id.in_(ids)
        )
    )
    by_id = {r.id: r for r in rows}
    tag_rows = await session.execute(
        select(LibraryTag.resource_id, LibraryTag.tag)
        .where(LibraryTag.guild_id == guild_id, LibraryTag.resource_id.in_(ids))
        .order_by(LibraryTag.tag)
    )
    tags: dict[int, list[str]] = {}
    for resource_id, tag in tag_rows:
        tags.setdefault(resource_id, []).append(tag)
    counts = await counts_of(session, ids)
    return [
        to_record(by_id[i], tags.get(i, []), counts.get(i, (0, 0, 0))) for i in ids if i in by_id
    ]


async def counts_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """Shares, distinct voters and saves per resource, in one round trip."""
    statement = union_all(
        select(LibraryShare.resource_id, literal(0), func.count())
        .where(LibraryShare.resource_id.in_(ids))
        .group_by(LibraryShare.resource_id),
        select(LibraryVote.resource_id, literal(1), func.count(LibraryVote.member_id.distinct()))
        .where(LibraryVote.resource_id.in_(ids))
        .group_by(LibraryVote.resource_id),
        select(LibrarySave.resource_id, literal(2), func.count())
        .where(LibrarySave.resource_id.in_(ids))
        .group_by(LibrarySave.resource_id),
    )
    counts = {i: [0, 0, 0] for i in ids}
    for resource_id, kind, number in await session.execute(statement):
        counts[int(resource_id)][int(kind)] = int(number)
    return {i: (c[0], c[1], c[2]) for i, c in counts.items()}


def to_record(
    resource: LibraryResource, tags: Sequence[str], counts: tuple[int, int, int]
) -> Resource:
    return Resource(
        id=resource.id,
        guild_id=resource.guild_id,
        url=resource.url,
        canonical_url=resource.canonical_url,
        domain=resource.domain,
        title=resource.title,
        note=resource.note,
        tags=tuple(sorted(tags)),
        first_sharer_id=resource.first_sharer_id,
        first_shared_at=resource.first_shared_at,
        shares=counts[0],
        votes=counts[1],
        saves=counts[2],
        deleted=resource.deleted_at is not None,
    )
