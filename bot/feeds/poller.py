"""The poller: checks due feeds like a good citizen and posts each new item exactly once.

- One process at a time checks a feed: it takes the feed's lease with a compare-and-set
  (`lease_until` past, `next_check_at` due), so several bot processes on one PostgreSQL share
  the work without checking a feed twice.
- Conditional requests (the stored ETag / Last-Modified): a 304 costs no parsing. Cache-Control
  max-age postpones the next check; Retry-After on 429/503 is honoured. At most
  `max_concurrent_fetches` fetches at once, `max_per_host` to one host.
- feedparser runs in a worker process, one parse at a time (CPU work off the event loop).
- A new item is recorded under the (feed, key) primary key before it is posted, then posted
  through the outbox (scope "feed:<id>", part = the item's key): a crash between the two is
  finished at the feed's next check, and never posts twice.
- Failures back off exponentially; the moderators hear once after `WARN_AFTER` failures, once
  when the feed is disabled (`disable_after_failures`), and once when a warned feed is back.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.database import SessionFactory, insert_ignoring_conflicts
from bot.errors import UserFacingError
from bot.feeds.discovery import Discovery
from bot.feeds.models import Feed, FeedItem
from bot.feeds.parsing import FeedParsers, ItemFilter, NotAFeed, ParsedFeed, ParsedItem
from bot.feeds.records import Deliverer, DeliveryBroken, FeedInfo, Posted, info_of
from bot.library.service import LibraryService
from bot.scheduling import Outbox, OutboxScope, Reporter
from bot.scheduling.runner import default_owner
from bot.settings import FeedSettings
from bot.tags import MAX_TAGS, merge_tags
from bot.topics.service import TopicService

log = logging.getLogger(__name__)

WARN_AFTER = 3
LEASE = timedelta(minutes=5)
MAX_WAIT = timedelta(days=1)
# Items one digest gathers at most (it lists the first few, then "and N more").
MAX_DIGEST = 100


@dataclass
class PollReport:
    """What one pass did (tests, logs, the benchmark)."""

    checked: int = 0
    not_modified: int = 0
    parsed: int = 0
    failed: int = 0
    posted: int = 0
    leased_elsewhere: int = 0


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max((parsedate_to_datetime(value) - now).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def max_age_seconds(cache_control: str | None) -> float | None:
    for part in (cache_control or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return float(value)
    return None


class FeedPoller:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        settings: FeedSettings,
        discovery: Discovery,
        library: LibraryService,
        topics: TopicService,
        outbox: Outbox,
        *,
        guild_visible: Callable[[int], bool] = lambda _guild_id: True,
        report: Reporter | None = None,
        owner: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.settings = settings
        self._discovery = discovery
        self._library = library
        self._topics = topics
        self._outbox = outbox
        self._visible = guild_visible
        self._report = report
        self.owner = (owner or default_owner())[:64]
        self._rng = rng or random.Random()
        self._fetches = asyncio.Semaphore(settings.max_concurrent_fetches)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self.parsers = FeedParsers(in_subprocess=settings.parse_in_subprocess)
        # Set by the Discord side (cogs/feeds) once the bot is up.
        self.deliverer: Deliverer | None = None

    # --- passes --------------------------------------------------------------------------------

    async def run_due(self) -> PollReport:
        """Check every due feed of the guilds this process serves; return when all are done."""
        now = self._clock.now()
        query = select(Feed.id, Feed.guild_id).where(
            Feed.paused.is_(False),
            Feed.disabled_reason.is_(None),
            Feed.next_check_at <= now,
            or_(Feed.lease_until.is_(None), Feed.lease_until <= now),
        )
        async with self._sessions() as session:
            due = [
                feed_id
                for feed_id, guild_id in (await session.execute(query)).all()
                if self._visible(guild_id)
            ]
        return await self._run(due)

    async def check_now(self, guild_id: int, feed_id: int) -> PollReport:
        """Check one feed now (after `FeedService.retry`, or the first post of a new feed)."""
        async with self._sessions() as session:
            owner = await session.scalar(select(Feed.guild_id).where(Feed.id == feed_id))
        return await self._run([feed_id] if owner == guild_id else [])

    async def _run(self, feed_ids: Sequence[int]) -> PollReport:
        """Lease the feeds in one statement, check them, write every success in one statement.

        Per unchanged feed that is one request and a row in two batched statements: a cycle of
        1,000 feeds answered 304 costs a few transactions, not thousands.
        """
        report = PollReport()
        claimed: list[_Claimed] = []
        for start in range(0, len(feed_ids), 500):
            claimed += await self._claim(feed_ids[start : start + 500])
        report.leased_elsewhere = len(feed_ids) - len(claimed)
        if not claimed:
            return report
        pending = await self._with_claimed_items([c.info.id for c in claimed])
        successes: list[dict[str, Any]] = []
        try:
            await asyncio.gather(
                *(self._check_limited(c, c.info.id in pending, report, successes) for c in claimed)
            )
        finally:
            await self._write(successes, [c.info.id for c in claimed])
        return report

    async def _claim(self, feed_ids: Sequence[int]) -> list[_Claimed]:
        """Take the leases of those still due and free (compare-and-set): another process that
        took one first keeps it; on PostgreSQL row locks make each feed go to one process."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            rows = await session.scalars(
                update(Feed)
                .where(
                    Feed.id.in_(feed_ids),
                    Feed.paused.is_(False),
                    Feed.disabled_reason.is_(None),
                    Feed.next_check_at <= now,
                    or_(Feed.lease_until.is_(None), Feed.lease_until <= now),
                )
                .values(lease_owner=self.owner, lease_until=now + LEASE)
                .returning(Feed)
                .execution_options(synchronize_session=False)
            )
            return [
                _Claimed(
                    info_of(row),
                    row.etag,
                    row.last_modified,
                    row.checked_at is not None,
                    row.warned,
                )
                for row in rows.all()
            ]

    async def _with_claimed_items(self, feed_ids: Sequence[int]) -> set[int]:
        """The feeds with items claimed but not posted (a crash, or "post the newest")."""
        found: set[int] = set()
        async with self._sessions() as session:
            for start in range(0, len(feed_ids), 500):
                query = (
                    select(FeedItem.feed_id)
                    .distinct()
                    .where(
                        FeedItem.feed_id.in_(feed_ids[start : start + 500]),
                        FeedItem.state == "claimed",
                    )
                )
                found.update((await session.scalars(query)).all())
        return found

    async def _write(self, successes: list[dict[str, Any]], claimed: Sequence[int]) -> None:
        """Every success of the pass in one statement, then every lease still held released."""
        table = cast(Table, Feed.__table__)
        success = (
            update(table)
            .where(table.c.id == bindparam("feed_id"), table.c.lease_owner == self.owner)
            .values(
                etag=bindparam("etag"),
                last_modified=bindparam("last_modified"),
                checked_at=bindparam("checked_at"),
                next_check_at=bindparam("next_check_at"),
                failures=0,
                failing_since=None,
                last_error=None,
                warned=False,
                lease_owner=None,
                lease_until=None,
            )
        )
        async with self._sessions() as session, session.begin():
            if successes:
                await session.execute(success, successes)
            for start in range(0, len(claimed), 500):
                await session.execute(
                    update(Feed)
                    .where(
                        Feed.id.in_(claimed[start : start + 500]), Feed.lease_owner == self.owner
                    )
                    .values(lease_owner=None, lease_until=None)
                    .execution_options(synchronize_session=False)
                )

    def _host_limit(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.max_per_host)
        return self._hosts[host]

    async def _check_limited(
        self, claimed: _Claimed, pending: bool, report: PollReport, successes: list[dict[str, Any]]
    ) -> None:
        async with self._host_limit(claimed.info.url), self._fetches:
            try:
                await self._check(claimed, pending, report, successes)
            except Exception as exc:
                log.exception("Checking feed %s failed unexpectedly", claimed.info.id)
                report.failed += 1
                await self._failed(
                    claimed.info, f"an unexpected error ({type(exc).__name__})", None
                )

    # --- one check -----------------------------------------------------------------------------

    async def _check(
        self, claimed: _Claimed, pending: bool, report: PollReport, successes: list[dict[str, Any]]
    ) -> None:
        info = claimed.info
        report.checked += 1
        try:
            if pending:  # left by a crash, or "post the newest"
                recovered = await self._post_claimed(info)  # (not `+= await`: other checks
                report.posted += recovered  # of the pass add to the report meanwhile)
            headers = self._discovery.headers(claimed.etag, claimed.last_modified)
            try:
                page = await self._discovery.get(info.url, headers)
            except Exception as exc:
                retry_after = retry_after_seconds(getattr(exc, "retry_after", None), self._now())
                raise _CheckFailed(str(exc) or type(exc).__name__, retry_after) from exc
            if page.status == 304:
                report.not_modified += 1
                successes.append(
                    await self._succeeded(
                        claimed, page.headers, claimed.etag, claimed.last_modified
                    )
                )
                return
            try:
                parsed = await self.parsers.parse(page.body, page.url)
            except NotAFeed:
                raise _CheckFailed("it is not a feed any more (RSS or Atom)") from None
            report.parsed += 1
            await self._record(info, parsed, primed=claimed.primed)
            posted = await self._post_claimed(info)
            report.posted += posted
            successes.append(
                await self._succeeded(
                    claimed,
                    page.headers,
                    page.headers.get("etag"),
                    page.headers.get("last-modified"),
                )
            )
        except DeliveryBroken as exc:
            report.failed += 1
            await self._failed(info, f"I cannot post in <#{info.channel_id}>: {exc}", None)
        except _CheckFailed as exc:
            report.failed += 1
            await self._failed(info, exc.reason, exc.retry_after)

    async def _record(self, info: FeedInfo, parsed: ParsedFeed, *, primed: bool) -> None:
        """Record the items not seen before; decide which are posted (newest few, recent,
        passing the filter). A feed never checked (imported) records all as seen."""
        fresh = await self._unseen(info.id, parsed.items)
        if not fresh:
            return
        now = self._now()
        cutoff = now - timedelta(days=self.settings.max_item_age_days)
        item_filter = ItemFilter.parse(info.filter)
        states: dict[str, str] = {}
        wanted: list[ParsedItem] = []
        for item in fresh:
            if not primed:
                states[item.key] = "seen"
            elif _too_old(item, cutoff) or not _wanted(info, item_filter, item):
                states[item.key] = "skipped"
            else:
                wanted.append(item)
        limit = MAX_DIGEST if info.mode == "digest" else self.settings.max_items_per_check
        payloads = {item.key: item.payload() for item in fresh}
        for item in wanted[:limit]:
            states[item.key] = "digest" if info.mode == "digest" else "claimed"
        for item in wanted[limit:]:
            states[item.key] = "skipped"
        if len(wanted) > limit:  # said once, on the newest item posted (the last one)
            payloads[wanted[0].key]["more"] = len(wanted) - limit
        rows = [
            {
                "feed_id": info.id,
                "key": item.key,
                "guild_id": info.guild_id,
                "state": states[item.key],
                "payload": payloads[item.key],
                "seen_at": now,
            }
            for item in fresh
        ]
        async with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = insert_ignoring_conflicts(dialect, FeedItem, ["feed_id", "key"])
            for start in range(0, len(rows), 200):
                await session.execute(insert.values(rows[start : start + 200]))

    async def _unseen(self, feed_id: int, items: Sequence[ParsedItem]) -> list[ParsedItem]:
        keys = [item.key for item in items]
        known: set[str] = set()
        async with self._sessions() as session:
            for start in range(0, len(keys), 500):
                query = select(FeedItem.key).where(
                    FeedItem.feed_id == feed_id, FeedItem.key.in_(keys[start : start + 500])
                )
                known.update((await session.scalars(query)).all())
        return [item for item in items if item.key not in known]

    async def _post_claimed(self, info: FeedInfo) -> int:
        """Post the feed's claimed items, oldest first, each once; returns how many."""
        query = select(FeedItem).where(FeedItem.feed_id == info.id, FeedItem.state == "claimed")
        async with self._sessions() as session:
            rows = list((await session.scalars(query)).all())
        if not rows:
            return 0
        if self.deliverer is None:
            raise DeliveryBroken("the bot is not connected")
        rows.sort(key=lambda r: (r.payload.get("published") or 0, r.seen_at))
        scope = self.scope(info)
        for row in rows:
            posted = await self.deliverer.item(info, dict(row.payload), scope, row.key)
            await self._posted(info, [row], posted)
        return len(rows)

    def scope(self, info: FeedInfo) -> OutboxScope:
        return self._outbox.scope(info.guild_id, f"feed:{info.id}")

    async def _posted(self, info: FeedInfo, rows: Sequence[FeedItem], posted: Posted) -> None:
        """Mark items posted and file each in the library (so /search finds it)."""
        now = self._now()
        tags = await self._tags(info)
        for row in rows:
            resource_id = await self._file(info, row.payload, posted, tags)
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(FeedItem)
                    .where(FeedItem.feed_id == info.id, FeedItem.key == row.key)
                    .values(
                        state="posted",
                        posted_at=now,
                        message_id=posted.message_id,
                        resource_id=resource_id,
                    )
                )
                await session.execute(
                    update(Feed)
                    .where(Feed.id == info.id)
                    .values(items_posted=Feed.items_posted + 1, last_item_at=now)
                )

    async def _tags(self, info: FeedInfo) -> list[str]:
        topic_tags: Sequence[str] = ()
        if info.topic_id is not None:
            topic = await self._topics.get(info.guild_id, info.topic_id)
            topic_tags = topic.default_tags if topic is not None else ()
        return merge_tags(list(topic_tags), list(info.tags))[:MAX_TAGS]

    async def _file(
        self, info: FeedInfo, payload: dict[str, Any], posted: Posted, tags: list[str]
    ) -> int | None:
        link = payload.get("link")
        if not link:
            return None
        try:
            shared = await self._library.share(
                info.guild_id,
                posted.channel_id,
                posted.poster_id,
                str(link),
                tags=tags,
                title=str(payload.get("title") or "")[:300] or None,
                member_is_bot=True,
                message_id=posted.message_id,
                source="feed",
            )
        except (UserFacingError, IntegrityError) as exc:  # a link the library does not take
            log.info("Feed %s item %s not filed: %s", info.id, link, exc)
            return None
        return shared.resource.id

    # --- health --------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now()

    def _interval(self) -> timedelta:
        return timedelta(minutes=self.settings.poll_interval_minutes) * self._rng.uniform(0.9, 1.1)

    async def _succeeded(
        self, claimed: _Claimed, headers: Mapping[str, str], etag: str | None, modified: str | None
    ) -> dict[str, Any]:
        """The feed's row after a good check (written with the pass's others, in `_write`)."""
        now = self._now()
        wait = self._interval()
        max_age = max_age_seconds(headers.get("cache-control"))
        if max_age is not None:
            wait = max(wait, min(timedelta(seconds=max_age), MAX_WAIT))
        if claimed.warned:
            info = claimed.info
            await self._tell(info, f"✅ Feed #{info.id} “{info.title}” works again.")
        return {
            "feed_id": claimed.info.id,
            "etag": (etag or "")[:512] or None,
            "last_modified": (modified or "")[:128] or None,
            "checked_at": now,
            "next_check_at": now + wait,
        }

    async def _failed(self, info: FeedInfo, error: str, retry_after: float | None) -> None:
        now = self._now()
        error = error[:300]
        async with self._sessions() as session, session.begin():
            row = await session.get(Feed, info.id)
            if row is None:
                return
            row.failures += 1
            row.failing_since = row.failing_since or now
            row.last_error = error
            wait = min(self._interval() * 2 ** (row.failures - 1), MAX_WAIT)
            if retry_after is not None:
                wait = max(wait, min(timedelta(seconds=retry_after), MAX_WAIT))
            row.next_check_at = now + wait
            failures = row.failures
            warn = failures >= WARN_AFTER and not row.warned
            if warn:
                row.warned = True
            disable = failures >= self.settings.disable_after_failures
            if disable:
                row.disabled_reason = f"{failures} failed checks in a row; the last: {error}"[:300]
        if disable:
            await self._tell(
                info,
                f"⛔ Feed #{info.id} “{info.title}” is disabled after {failures} failed checks "
                f"in a row (the last: {error}). Fix it, then `/mod feed retry {info.id}`.",
            )
        elif warn:
            await self._tell(
                info,
                f"⚠️ Feed #{info.id} “{info.title}” failed {failures} checks in a row: {error}. "
                "I keep trying, less often; `/feed list` shows its health.",
            )

    async def _tell(self, info: FeedInfo, text: str) -> None:
        if self._report is None:
            return
        try:
            await self._report(info.guild_id, text)
        except Exception:
            log.exception("Could not tell guild %s about feed %s", info.guild_id, info.id)

    # --- digests -------------------------------------------------------------------------------

    async def post_digest(self, guild_id: int, feed_id: int, scope: OutboxScope) -> int:
        """Post the feed's waiting items in one message through `scope` (a slot's); returns how
        many. Resumed after a crash, it lists the same items (kept in the outbox's memo)."""
        async with self._sessions() as session:
            row = await session.get(Feed, feed_id)
            if row is None or row.guild_id != guild_id:
                return 0
            info = info_of(row)
            memo = await scope.memo("digest")
            if memo is not None:
                keys = [str(k) for k in memo.get("keys", [])]
                query = select(FeedItem).where(FeedItem.feed_id == feed_id, FeedItem.key.in_(keys))
            else:
                query = select(FeedItem).where(
                    FeedItem.feed_id == feed_id, FeedItem.state == "digest"
                )
            rows = list((await session.scalars(query)).all())
        if memo is None:
            rows = [r for r in rows if r.state == "digest"]
        if not rows:
            return 0
        if self.deliverer is None:
            raise DeliveryBroken("the bot is not connected")
        rows.sort(key=lambda r: (r.payload.get("published") or 0, r.seen_at))
        payloads = [dict(r.payload) for r in rows]
        posted = await self.deliverer.digest(info, payloads, scope, [r.key for r in rows])
        await self._posted(info, rows, posted)
        return len(rows)


def _too_old(item: ParsedItem, cutoff: datetime) -> bool:
    return item.published is not None and item.published < cutoff


def _wanted(info: FeedInfo, item_filter: ItemFilter, item: ParsedItem) -> bool:
    return item_filter.accepts(item) and not (info.no_shorts and item.is_short)


@dataclass(frozen=True)
class _Claimed:
    """A feed this pass leased, as it was when leased."""

    info: FeedInfo
    etag: str | None
    last_modified: str | None
    primed: bool  # checked before: new items are posted (else only recorded as seen)
    warned: bool


class _CheckFailed(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
