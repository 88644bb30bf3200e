"""The resource library: sharing, capture, tags, votes, saves and removal. No Discord here."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import bindparam, delete, distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import QuickRead, SessionFactory, engine_of
from bot.errors import UserFacingError
from bot.guilds.service import record_audit, upsert_guild_row
from bot.library import _store as store
from bot.library._store import search_text_for
from bot.library.models import (
    LibraryCaptureChannel,
    LibraryResource,
    LibraryShare,
    LibraryTag,
    LibraryTagCount,
    LibraryVote,
)
from bot.library.models import LibrarySave as LibrarySaveRow
from bot.library.records import (
    CaptureChannel,
    CapturedLink,
    Resource,
    ShareRef,
    ShareResult,
    TagCount,
)
from bot.library.search import SearchFilters, search_resource_ids
from bot.library.urls import Link, find_links, is_capturable, parse_link
from bot.tags import MAX_TAGS, merge_tags, normalise_tag, normalise_tags, parse_tags

T = TypeVar("T")
MAX_NOTE_LENGTH = 500
MAX_TITLE_LENGTH = 300
VOTE_EMOJIS = frozenset({"⭐", "👍"})
SAVE_EMOJI = "🔖"


# The last code point: `tag < word + TOP_CHARACTER` bounds every tag that starts with `word`.
TOP_CHARACTER = "\U0010ffff"
# Tag autocomplete, built once (it runs on every keystroke): a range on the primary key
# (guild_id, tag) rather than LIKE, so there are no wildcards to escape.
TAGS_STARTING_WITH = QuickRead(
    select(LibraryTagCount.tag)
    .where(
        LibraryTagCount.guild_id == bindparam("guild_id"),
        LibraryTagCount.resources > 0,
        LibraryTagCount.tag >= bindparam("low"),
        LibraryTagCount.tag < bindparam("high"),
    )
    .order_by(LibraryTagCount.resources.desc(), LibraryTagCount.tag)
    .limit(bindparam("limit")),
    ("guild_id", "low", "high", "limit"),
)


class LibraryService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        *,
        ignored_hosts: Iterable[str] = (),
        search_candidates: int = 2000,
    ) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)
        self._clock = clock
        self._ignored = frozenset(h.lower().strip() for h in ignored_hosts if h.strip())
        self._candidates = search_candidates
        # Guilds whose row is known to exist (with this name): saves a query per share.
        self._known_guilds: dict[int, str | None] = {}

    # --- sharing -------------------------------------------------------------------------

    async def share(
        self,
        guild_id: int,
        channel_id: int,
        member_id: int,
        url: str,
        *,
        tags: str | Sequence[str] | None = None,
        note: str | None = None,
        title: str | None = None,
        guild_name: str | None = None,
        member_is_bot: bool = False,
        message_id: int | None = None,
        source: str = "command",
    ) -> ShareResult:
        """Add a link (or record a re-share of it); bad input raises before anything is saved."""
        link = parse_link(url)
        wanted = parse_tags(tags) if isinstance(tags, str | None) else normalise_tags(tags)
        note = store.clean_optional(note, MAX_NOTE_LENGTH, "note")
        title = store.clean_optional(title, MAX_TITLE_LENGTH, "title")
        now = self._clock.now()

        share = store.NewShare(member_id, member_is_bot, channel_id, message_id, note, source, now)
        link_is_known = False
        if self._guild_is_known(guild_id, guild_name):
            # A new link in a known guild needs no unit of work: one Core transaction (on SQLite
            # one trip). A link the guild already has writes nothing there: on to the re-share.
            try:
                async with self._engine.begin() as connection:
                    fresh = await store.add_resource(
                        connection,
                        guild_id,
                        link,
                        share,
                        wanted,
                        title,
                        note,
                        ends_transaction=True,
                    )
            except IntegrityError:  # e.g. the guild's row is gone: the full path recreates it
                self._known_guilds.pop(guild_id, None)
            else:
                if fresh is not None:
                    return ShareResult(resource=fresh[0], share_id=fresh[1], first_share=None)
                link_is_known = True

        async def attempt(session: AsyncSession) -> ShareResult:
            await self._ensure_guild(session, guild_id, guild_name, now)
            if not link_is_known:  # the Core attempt above did not already find it there
                fresh = await store.add_resource(
                    session, guild_id, link, share, wanted, title, note, ends_transaction=True
                )
                if fresh is not None:
                    resource_view, share_id = fresh
                    return ShareResult(resource=resource_view, share_id=share_id, first_share=None)
            resource = await store.resource_by_url(session, guild_id, link.key)
            first = await store.first_share(session, resource.id)
            current = await store.tags_of(session, resource.id)
            with session.no_autoflush:  # the resource's changes go out in one UPDATE, below
                if resource.deleted_at is not None:
                    resource.deleted_at = None  # shared again after removal: it is back
                    resource.deleted_by = None
                if resource.url.startswith("http://") and link.canonical.startswith("https://"):
                    resource.url = link.canonical  # the best form seen: https over http
                # What the searchable text is built from: the title, the notes and the tags.
                searchable_changed = note is not None
                if title and resource.title_source != "member":
                    resource.title, resource.title_source = title, "member"
                    searchable_changed = True
                if note and not resource.note:
                    resource.note = note
                merged = merge_tags(current, wanted)
                added = merged[len(current) :]
                await store.add_tags(session, guild_id, resource.id, added)
                share_id = await store.add_share(session, guild_id, resource.id, share)
                if searchable_changed or added:
                    await store.refresh_search(session, resource, merged)
            view = await store.view(session, resource)
            return ShareResult(resource=view, share_id=share_id, first_share=first)

        return await self._in_transaction(attempt)

    async def attach_message(self, guild_id: int, share_id: int, message_id: int) -> None:
        """Remember the share card's message, so reactions on it count and jump links work."""
        async with self._sessions() as session, session.begin():
            share = await session.get(LibraryShare, share_id)
            if share is not None and share.guild_id == guild_id:
                share.message_id = message_id

    async def capture_links(
        self,
        guild_id: int,
        channel_id: int,
        message_id: int,
        author_id: int,
        content: str,
        *,
        tags: Sequence[str] = (),
        shared_at: datetime | None = None,
        author_is_bot: bool = False,
        source: str = "capture",
    ) -> list[CapturedLink]:
        """Record every eligible link in a message as a share, silently; nothing raises for links.

        Skipped: links in code blocks, Discord's own links, GIF hosts, the ignored hosts, links
        that are not valid, and links this message was already recorded for.
        """
        links: list[Link] = []
        for raw in find_links(content):
            try:
                link = parse_link(raw)
            except UserFacingError:
                continue
            if is_capturable(link.domain, self._ignored) and link.key not in {
                seen.key for seen in links
            }:
                links.append(link)
        if not links:
            return []
        try:
            wanted = normalise_tags(tags)[:MAX_TAGS]
        except UserFacingError:
            wanted = []
        now = shared_at or self._clock.now()
        share = store.NewShare(author_id, author_is_bot, channel_id, message_id, None, source, now)

        async def attempt(session: AsyncSession) -> list[CapturedLink]:
            captured: list[CapturedLink] = []
            await self._ensure_guild(session, guild_id, None, now)
            for link in links:
                fresh = await store.add_resource(session, guild_id, link, share, wanted)
                if fresh is not None:
                    captured.append(CapturedLink(fresh[0].id, fresh[1], link.canonical, True))
                    continue
                resource = await store.resource_by_url(session, guild_id, link.key)
                resource_id = resource.id
                already = await session.scalar(
                    select(LibraryShare.id).where(
                        LibraryShare.guild_id == guild_id,
                        LibraryShare.message_id == message_id,
                        LibraryShare.resource_id == resource_id,
                    )
                )
                if already is not None:
                    continue
                current = await store.tags_of(session, resource_id)
                if resource.deleted_at is not None:
                    resource.deleted_at, resource.deleted_by = None, None
                limit = max(MAX_TAGS, len(current))
                merged = list(dict.fromkeys([*current, *wanted]))[:limit]
                await store.add_tags(session, guild_id, resource_id, merged[len(current) :])
                if len(merged) > len(current):  # captures carry no note: only tags can change
                    await store.refresh_search(session, resource, merged)
                share_id = await store.add_share(session, guild_id, resource_id, share)
                captured.append(CapturedLink(resource_id, share_id, link.canonical, False))
            return captured

        return await self._in_transaction(attempt)

    async def set_page_title(self, guild_id: int, resource_id: int, title: str) -> bool:
        """Store a fetched page title unless a member already gave one."""
        title = " ".join(title.split())[:MAX_TITLE_LENGTH]
        if not title:
            return False
        async with self._sessions() as session, session.begin():
            resource = await session.get(LibraryResource, resource_id)
            if resource is None or resource.guild_id != guild_id or resource.title_source:
                return False
            resource.title, resource.title_source = title, "page"
            await store.refresh_search(session, resource, await store.tags_of(session, resource_id))
            return True

    async def _in_transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one transaction; once more if a concurrent writer won a unique race.

        Two listeners capturing the same message, or two members sharing the same new link at
        once, hit a unique constraint; the retry then sees the other's row and records a re-share.
        """
        for attempt in range(2):
            try:
                async with self._sessions() as session, session.begin():
                    return await work(session)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _guild_is_known(self, guild_id: int, name: str | None) -> bool:
        """Whether the guild's row is known to exist, with this name (None: any name)."""
        return guild_id in self._known_guilds and name in (None, self._known_guilds[guild_id])

    async def _ensure_guild(
        self, session: AsyncSession, guild_id: int, name: str | None, now: datetime
    ) -> None:
        if self._guild_is_known(guild_id, name):
            return
        known = self._known_guilds.get(guild_id, "")
        _guild, created = await upsert_guild_row(session, guild_id, name, now)
        if created:
            return  # created in this transaction, which may still roll back: not cached yet
        if len(self._known_guilds) > 10_000:
            self._known_guilds.clear()
        self._known_guilds[guild_id] = name if name is not None else known or None

    # --- capture channels ----------------------------------------------------------------

    async def set_capture_channel(
        self, guild_id: int, channel_id: int, default_tags: Sequence[str], *, source: str
    ) -> None:
        tags = normalise_tags(default_tags)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await self._ensure_guild(session, guild_id, None, now)
            row = await session.get(LibraryCaptureChannel, (guild_id, channel_id))
            if row is None:
                session.add(
                    LibraryCaptureChannel(
                        guild_id=guild_id,
                        channel_id=channel_id,
                        default_tags=tags,
                        source=source[:16],
                        updated_at=now,
                    )
                )
            else:
                row.default_tags, row.source, row.updated_at = tags, source[:16], now

    async def remove_capture_channel(self, guild_id: int, channel_id: int) -> None:
        """Stop capturing in a channel, whoever made it a capture channel."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(LibraryCaptureChannel).where(
                    LibraryCaptureChannel.guild_id == guild_id,
                    LibraryCaptureChannel.channel_id == channel_id,
                )
            )

    async def capture_channel(self, guild_id: int, channel_id: int) -> CaptureChannel | None:
        async with self._sessions() as session:
            row = await session.get(LibraryCaptureChannel, (guild_id, channel_id))
            if row is None:
                return None
            return CaptureChannel(row.channel_id, tuple(row.default_tags), row.source)

    async def capture_channels(self, guild_id: int) -> list[CaptureChannel]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(LibraryCaptureChannel)
                .where(LibraryCaptureChannel.guild_id == guild_id)
                .order_by(LibraryCaptureChannel.channel_id)
            )
            return [CaptureChannel(r.channel_id, tuple(r.default_tags), r.source) for r in rows]

    # --- votes and saves -----------------------------------------------------------------

    async def add_reaction(self, guild_id: int, message_id: int, member_id: int, emoji: str) -> int:
        """A ⭐/👍 (vote) or 🔖 (save) on a card or captured message; returns rows changed."""
        if emoji not in VOTE_EMOJIS and emoji != SAVE_EMOJI:
            return 0
        now = self._clock.now()
        changed = 0
        async with self._sessions() as session, session.begin():
            for resource_id in await store.resources_of_message(session, guild_id, message_id):
                if emoji == SAVE_EMOJI:
                    changed += await store.add_save(session, guild_id, resource_id, member_id, now)
                    continue
                exists = await session.scalar(
                    select(LibraryVote.id).where(
                        LibraryVote.resource_id == resource_id,
                        LibraryVote.member_id == member_id,
                        LibraryVote.emoji == emoji,
                    )
                )
                if exists is None:
                    session.add(
                        LibraryVote(
                            guild_id=guild_id,
                            resource_id=resource_id,
                            member_id=member_id,
                            emoji=emoji,
                            message_id=message_id,
                            voted_at=now,
                        )
                    )
                    changed += 1
        return changed

    async def remove_reaction(
        self, guild_id: int, message_id: int, member_id: int, emoji: str
    ) -> int:
        if emoji not in VOTE_EMOJIS and emoji != SAVE_EMOJI:
            return 0
        async with self._sessions() as session, session.begin():
            ids = await store.resources_of_message(session, guild_id, message_id)
            if not ids:
                return 0
            if emoji == SAVE_EMOJI:
                result = await session.execute(
                    delete(LibrarySaveRow).where(
                        LibrarySaveRow.guild_id == guild_id,
                        LibrarySaveRow.member_id == member_id,
                        LibrarySaveRow.resource_id.in_(ids),
                    )
                )
            else:
                result = await session.execute(
                    delete(LibraryVote).where(
                        LibraryVote.guild_id == guild_id,
                        LibraryVote.member_id == member_id,
                        LibraryVote.emoji == emoji,
                        LibraryVote.resource_id.in_(ids),
                    )
                )
            return int(getattr(result, "rowcount", 0) or 0)

    async def save(self, guild_id: int, resource_id: int, member_id: int) -> bool:
        """Save a resource for a member; False if it was already saved."""
        async with self._sessions() as session, session.begin():
            await store.live_resource(session, guild_id, resource_id)
            return bool(
                await store.add_save(session, guild_id, resource_id, member_id, self._clock.now())
            )

    async def saved(self, guild_id: int, member_id: int, *, limit: int = 100) -> list[Resource]:
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(LibrarySaveRow.resource_id)
                    .join(LibraryResource, LibraryResource.id == LibrarySaveRow.resource_id)
                    .where(
                        LibrarySaveRow.guild_id == guild_id,
                        LibrarySaveRow.member_id == member_id,
                        LibraryResource.deleted_at.is_(None),
                    )
                    .order_by(LibrarySaveRow.saved_at.desc())
                    .limit(limit)
                )
            )
            return await store.views(session, guild_id, ids)

    # --- reading -------------------------------------------------------------------------

    async def get(self, guild_id: int, resource_id: int) -> Resource:
        async with self._sessions() as session:
            resource = await store.live_resource(session, guild_id, resource_id)
            return await store.view(session, resource)

    async def shares_of(self, guild_id: int, resource_id: int) -> list[ShareRef]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(LibraryShare)
                .where(LibraryShare.guild_id == guild_id, LibraryShare.resource_id == resource_id)
                .order_by(LibraryShare.shared_at, LibraryShare.id)
            )
            return [ShareRef(r.member_id, r.shared_at, r.channel_id, r.message_id) for r in rows]

    async def share_counts_by_channel(self, guild_id: int, since: datetime) -> dict[int, int]:
        """Distinct live resources shared by members in each channel since `since`."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(LibraryShare.channel_id, func.count(distinct(LibraryShare.resource_id)))
                .join(LibraryResource, LibraryResource.id == LibraryShare.resource_id)
                .where(
                    LibraryShare.guild_id == guild_id,
                    LibraryShare.shared_at >= since,
                    LibraryShare.member_is_bot.is_(False),
                    LibraryResource.deleted_at.is_(None),
                )
                .group_by(LibraryShare.channel_id)
            )
            return {int(channel_id): int(count) for channel_id, count in rows}

    async def search(
        self,
        guild_id: int,
        query: str | None = None,
        *,
        tag: str | None = None,
        by: int | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[Resource]:
        """Full-text search with filters (AND), ranked by relevance and recency."""
        filters = SearchFilters(
            guild_id=guild_id,
            query=query or "",
            tag=normalise_tag(tag) if tag else None,
            by=by,
            since=since,
            limit=limit,
            candidates=self._candidates,
            now=self._clock.now(),
        )
        async with self._sessions() as session:
            ids = await search_resource_ids(session, filters)
            return await store.views(session, guild_id, ids)

    async def tag_counts(self, guild_id: int, *, limit: int = 200) -> list[TagCount]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(LibraryTagCount.tag, LibraryTagCount.resources)
                .where(LibraryTagCount.guild_id == guild_id, LibraryTagCount.resources > 0)
                .order_by(LibraryTagCount.resources.desc(), LibraryTagCount.tag)
                .limit(limit)
            )
            return [TagCount(tag, int(n)) for tag, n in rows]

    async def autocomplete_tags(self, guild_id: int, prefix: str, *, limit: int = 25) -> list[str]:
        """The guild's tags starting with `prefix` (last word typed), most used first."""
        word = re.split(r"[,\s]+", prefix.strip())[-1].lstrip("#").lower()
        parameters = {"guild_id": guild_id, "low": word, "high": word + TOP_CHARACTER}
        rows = await TAGS_STARTING_WITH.rows(self._engine, parameters | {"limit": limit})
        return [tag for (tag,) in rows]

    async def export(self, guild_id: int) -> list[Resource]:
        """Every live resource of the guild, oldest first, for the export formats."""
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(LibraryResource.id)
                    .where(
                        LibraryResource.guild_id == guild_id, LibraryResource.deleted_at.is_(None)
                    )
                    .order_by(LibraryResource.first_shared_at, LibraryResource.id)
                )
            )
            views: list[Resource] = []
            for start in range(0, len(ids), 500):
                views.extend(await store.views(session, guild_id, ids[start : start + 500]))
            return views

    # --- editing -------------------------------------------------------------------------

    async def edit_tags(
        self,
        guild_id: int,
        resource_id: int,
        actor_id: int,
        *,
        add: str | None = None,
        remove: str | None = None,
        is_moderator: bool = False,
    ) -> Resource:
        added, removed = parse_tags(add), parse_tags(remove)
        async with self._sessions() as session, session.begin():
            resource = await store.live_resource(session, guild_id, resource_id)
            await store.require_sharer_or_moderator(session, resource, actor_id, is_moderator)
            current = await store.tags_of(session, resource_id)
            kept = [tag for tag in current if tag not in removed]
            merged = merge_tags(kept, added)
            dropped = [tag for tag in current if tag in removed]
            if dropped:
                await session.execute(
                    delete(LibraryTag).where(
                        LibraryTag.resource_id == resource_id, LibraryTag.tag.in_(dropped)
                    )
                )
            for tag in merged[len(kept) :]:
                session.add(LibraryTag(resource_id=resource_id, tag=tag, guild_id=guild_id))
            await store.refresh_search(session, resource, merged)
            return await store.view(session, resource)

    async def remove(
        self, guild_id: int, resource_id: int, actor_id: int, *, is_moderator: bool = False
    ) -> Resource:
        """Soft removal by a sharer or a moderator, written to the audit log."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            resource = await store.live_resource(session, guild_id, resource_id)
            await store.require_sharer_or_moderator(session, resource, actor_id, is_moderator)
            resource.deleted_at, resource.deleted_by = now, actor_id
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="library.remove",
                target=f"resource {resource_id}",
                now=now,
                details={"url": resource.canonical_url},
            )
            return await store.view(session, resource)


__all__ = ["LibraryService", "search_text_for"]
