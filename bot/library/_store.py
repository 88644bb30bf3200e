"""The library service's building blocks: each runs inside the caller's session and transaction."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CursorResult,
    Result,
    Select,
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.database import insert_ignoring_conflicts
from bot.errors import UserFacingError
from bot.library.models import (
    LibraryResource,
    LibrarySave,
    LibraryShare,
    LibraryTag,
    LibraryVote,
)
from bot.library.records import Resource, ShareRef
from bot.library.urls import Link
from bot.models.base import table_of
from bot.sqlite_driver import SQLiteStatement, run_in_thread

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


# Shares are written through Core, not the unit of work: one statement per table, no flush, no
# re-reading of what the transaction just wrote, each statement compiled once and then cached.
_RESOURCES = table_of(LibraryResource)
_SHARES = table_of(LibraryShare)
_TAGS = table_of(LibraryTag)
_INSERT_SHARE = insert(_SHARES)
_INSERT_TAGS = insert(_TAGS)
_RESOURCE_KEYS = (
    "guild_id",
    "canonical_url",
    "url",
    "domain",
    "title",
    "title_source",
    "note",
    "first_sharer_id",
    "first_shared_at",
    "search_text",
)
_SHARE_KEYS = (
    "guild_id",
    "resource_id",
    "member_id",
    "member_is_bot",
    "channel_id",
    "message_id",
    "note",
    "source",
    "shared_at",
)


@dataclass(frozen=True)
class NewShare:
    """Who shared, where and when: one row of library_shares, less its resource."""

    member_id: int
    member_is_bot: bool
    channel_id: int
    message_id: int | None
    note: str | None
    source: str
    shared_at: datetime

    def values(self, guild_id: int, resource_id: int) -> dict[str, Any]:
        return {
            "guild_id": guild_id,
            "resource_id": resource_id,
            "member_id": self.member_id,
            "member_is_bot": self.member_is_bot,
            "channel_id": self.channel_id,
            "message_id": self.message_id,
            "note": self.note,
            "source": self.source,
            "shared_at": self.shared_at,
        }


# On SQLite a new link's three statements run in one trip to SQLite's thread (see sqlite_driver);
# the resource is inserted unless the guild already has the URL (then nothing is written), and
# the FTS5 table follows search_text through a trigger.
_SQLITE_RESOURCE = SQLiteStatement(
    insert_ignoring_conflicts(
        "sqlite", _RESOURCES, [_RESOURCES.c.guild_id, _RESOURCES.c.canonical_url]
    ),
    _RESOURCE_KEYS,
)
_SQLITE_TAG = SQLiteStatement(_INSERT_TAGS, ("resource_id", "tag", "guild_id"))
_SQLITE_SHARE = SQLiteStatement(_INSERT_SHARE, _SHARE_KEYS)


async def add_resource(
    db: AsyncSession | AsyncConnection,
    guild_id: int,
    link: Link,
    share: NewShare,
    tags: Sequence[str],
    title: str | None = None,
    note: str | None = None,
    *,
    ends_transaction: bool = False,
) -> tuple[Resource, int] | None:
    """The link as a new resource with its tags and its first share (the resource and the share's
    id); None, with nothing written, if the guild already has the link.

    `ends_transaction`: the caller writes nothing more in this transaction when the link is new,
    so on SQLite the commit rides in the same trip, and the next writer need not wait for this
    one's Python to come round to committing.

    Trying the insert first makes a new link cost one statement, not a lookup and an insert, and
    takes SQLite's write lock at once (a lookup first would start a read transaction that cannot
    become a write if another writer commits in between).
    """
    tags = _in_lock_order(tags)
    text = search_text_for(title, [note], link.canonical, tags)
    values = {
        "guild_id": guild_id,
        "canonical_url": link.key,
        "url": link.canonical,
        "domain": link.domain,
        "title": title,
        "title_source": "member" if title else "",
        "note": note,
        "first_sharer_id": share.member_id,
        "first_shared_at": share.shared_at,
        "search_text": text,
    }
    ids: tuple[int, int] | None
    connection = db if isinstance(db, AsyncConnection) else await db.connection()
    if connection.dialect.name == "postgresql":
        values |= {
            "vector_text": text,
            "tags": list(tags),
            "member_is_bot": share.member_is_bot,
            "channel_id": share.channel_id,
            "message_id": share.message_id,
            "source": share.source,
        }
        row = (await connection.execute(_new_link_postgresql(), values)).first()
        ids = None if row is None else (row[0], row[1])
    else:
        ids = await run_in_thread(
            connection,
            partial(_write_new_sqlite, values, tags, share, commit=ends_transaction),
        )
    if ids is None:
        return None
    resource_id, share_id = ids
    resource = Resource(
        id=resource_id,
        guild_id=guild_id,
        url=link.canonical,
        canonical_url=link.key,
        domain=link.domain,
        title=title,
        note=note,
        tags=tuple(sorted(tags)),
        first_sharer_id=share.member_id,
        first_shared_at=share.shared_at,
        shares=1,
    )
    return resource, share_id


@cache
def _new_link_postgresql() -> Select[int, int]:
    """A new link on PostgreSQL in one statement: the resource unless the guild has the URL (then
    nothing is written and no row comes back), its tags and its first share, as data-modifying
    CTEs. The share's member, time and note are the resource's first ones."""
    columns = {key: bindparam(key, type_=_RESOURCES.c[key].type) for key in _RESOURCE_KEYS}
    # PostgreSQL indexes search_vector, computed from the same text as SQLite's FTS5 table.
    text = bindparam("vector_text", type_=Text())
    resource = (
        insert_ignoring_conflicts(
            "postgresql", _RESOURCES, [_RESOURCES.c.guild_id, _RESOURCES.c.canonical_url]
        )
        .values(**columns, search_vector=func.to_tsvector("simple", text))
        .returning(
            _RESOURCES.c.id,
            _RESOURCES.c.guild_id,
            _RESOURCES.c.first_sharer_id,
            _RESOURCES.c.first_shared_at,
            _RESOURCES.c.note,
        )
        .cte("new_resource")
    )
    tags_given = func.unnest(bindparam("tags", type_=ARRAY(String(32))))
    tag = tags_given.table_valued("tag").render_derived(name="given")
    tags = insert(_TAGS).from_select(
        ["resource_id", "tag", "guild_id"],
        select(resource.c.id, tag.c.tag, resource.c.guild_id).select_from(
            resource.join(tag, true())
        ),
    )
    share = (
        insert(_SHARES)
        .from_select(
            list(_SHARE_KEYS),  # in this order:
            select(
                resource.c.guild_id,
                resource.c.id,
                resource.c.first_sharer_id,
                bindparam("member_is_bot", type_=Boolean()),
                bindparam("channel_id", type_=BigInteger()),
                bindparam("message_id", type_=BigInteger()),
                resource.c.note,
                bindparam("source", type_=String(16)),
                resource.c.first_shared_at,
            ),
        )
        .returning(_SHARES.c.resource_id, _SHARES.c.id)
        .cte("new_share")
    )
    # PostgreSQL runs every data-modifying CTE, read or not: the tags' one is only added.
    return select(share.c.resource_id, share.c.id).add_cte(tags.cte("new_tags"))


def _write_new_sqlite(
    values: dict[str, Any],
    tags: Sequence[str],
    share: NewShare,
    db: sqlite3.Connection,
    *,
    commit: bool,
) -> tuple[int, int] | None:
    """In SQLite's thread: the resource, its tags and its first share, then the commit if asked;
    None, with nothing written or committed, if the link is known."""
    inserted = db.execute(_SQLITE_RESOURCE.sql, _SQLITE_RESOURCE.parameters(values))
    if inserted.rowcount != 1 or inserted.lastrowid is None:
        return None
    resource_id, guild_id = inserted.lastrowid, values["guild_id"]
    if tags:
        rows = [{"resource_id": resource_id, "tag": t, "guild_id": guild_id} for t in tags]
        db.executemany(_SQLITE_TAG.sql, [_SQLITE_TAG.parameters(row) for row in rows])
    share_row = _SQLITE_SHARE.parameters(share.values(guild_id, resource_id))
    shared = db.execute(_SQLITE_SHARE.sql, share_row)
    assert shared.lastrowid is not None
    if commit:
        db.commit()
    return resource_id, shared.lastrowid


async def add_tags(
    session: AsyncSession, guild_id: int, resource_id: int, tags: Sequence[str]
) -> None:
    """Give a resource tags it does not carry yet (migration 0006's triggers count them)."""
    if not tags:
        return
    rows = [
        {"resource_id": resource_id, "tag": t, "guild_id": guild_id} for t in _in_lock_order(tags)
    ]
    await session.execute(_INSERT_TAGS, rows)


def _in_lock_order(tags: Sequence[str]) -> list[str]:
    """Tags in the one order every writer inserts them: each moves its guild-wide count row
    (migration 0006's triggers), and two shares locking those rows in opposite orders would
    deadlock on PostgreSQL, which then fails one of them."""
    return sorted(tags)


async def add_share(session: AsyncSession, guild_id: int, resource_id: int, share: NewShare) -> int:
    """Record one share; returns its id (SQLite's lastrowid, RETURNING on PostgreSQL)."""
    result = await session.execute(_INSERT_SHARE, share.values(guild_id, resource_id))
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


async def resource_by_url(session: AsyncSession, guild_id: int, key: str) -> LibraryResource:
    """The guild's resource for a link (by its key) that `add_resource` found already there."""
    resource: LibraryResource | None = await session.scalar(
        select(LibraryResource).where(
            LibraryResource.guild_id == guild_id, LibraryResource.canonical_url == key
        )
    )
    if resource is None:  # deleted (with its guild) since the insert saw it: nothing to add to
        raise LookupError(f"no resource for {key} in guild {guild_id}")
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


async def view(session: AsyncSession, resource: LibraryResource) -> Resource:
    """The resource as members see it, with this transaction's changes (flushed first)."""
    await session.flush()
    (record,) = await views(session, resource.guild_id, [resource.id])
    return record


# Resources with their tags (space separated), shares, distinct voters and saves: one statement,
# each figure read through its table's index on resource_id.
_VIEWS = select(
    LibraryResource.id,
    LibraryResource.guild_id,
    LibraryResource.url,
    LibraryResource.canonical_url,
    LibraryResource.domain,
    LibraryResource.title,
    LibraryResource.note,
    LibraryResource.first_sharer_id,
    LibraryResource.first_shared_at,
    LibraryResource.deleted_at,
    select(func.aggregate_strings(LibraryTag.tag, " "))
    .where(LibraryTag.resource_id == LibraryResource.id)
    .scalar_subquery(),
    select(func.count()).where(LibraryShare.resource_id == LibraryResource.id).scalar_subquery(),
    select(func.count(LibraryVote.member_id.distinct()))
    .where(LibraryVote.resource_id == LibraryResource.id)
    .scalar_subquery(),
    select(func.count()).where(LibrarySave.resource_id == LibraryResource.id).scalar_subquery(),
)
# Built once (every search and card reads it); a Core statement on the session's connection,
# since these are plain columns, not objects to track.
_VIEWS_OF = _VIEWS.where(
    LibraryResource.guild_id == bindparam("guild_id"),
    LibraryResource.id.in_(bindparam("ids", expanding=True)),
)


async def views(session: AsyncSession, guild_id: int, ids: Sequence[int]) -> list[Resource]:
    """The guild's resources among `ids`, in that order, as members see them."""
    if not ids:
        return []
    connection = await session.connection()
    rows = await connection.execute(_VIEWS_OF, {"guild_id": guild_id, "ids": list(ids)})
    by_id = {
        row[0]: Resource(
            id=row[0],
            guild_id=row[1],
            url=row[2],
            canonical_url=row[3],
            domain=row[4],
            title=row[5],
            note=row[6],
            tags=tuple(sorted(row[10].split())) if row[10] else (),
            first_sharer_id=row[7],
            first_shared_at=row[8],
            shares=row[11],
            votes=row[12],
            saves=row[13],
            deleted=row[9] is not None,
        )
        for row in rows
    }
    return [by_id[i] for i in ids if i in by_id]
