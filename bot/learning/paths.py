"""Paths: each topic's ordered library resources in levels, and members walking them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row
from bot.learning.models import PathDone, PathFollower, PathStep
from bot.learning.records import DoneResult, Level, Milestone, Step
from bot.library.models import LibraryResource
from bot.topics.models import Topic
from bot.topics.records import TopicInfo

MAX_LEVEL = 20
MAX_STEPS = 100  # per path: one /path show stays readable


class PathService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    # --- moderators ------------------------------------------------------------------------

    async def add(
        self,
        guild_id: int,
        guild_name: str,
        actor_id: int,
        topic: TopicInfo,
        resource_id: int,
        level: int | None = None,
    ) -> Step:
        """Append a library resource to the topic's path, at `level` (default: the last one)."""
        _check_level(level)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            resource = await _live_resource(session, guild_id, resource_id)
            steps = await _steps(session, guild_id, topic.id)
            if any(s.resource_id == resource_id for s in steps):
                raise UserFacingError(
                    f"Resource #{resource_id} is already on the {topic.name} path. "
                    "Use `/mod path move` to change its level."
                )
            if len(steps) >= MAX_STEPS:
                raise UserFacingError(f"A path holds at most {MAX_STEPS} resources.")
            wanted = level or max((s.level for s in steps), default=1)
            position = 1 + max((s.position for s in steps if s.level == wanted), default=0)
            row = PathStep(
                guild_id=guild_id,
                topic_id=topic.id,
                resource_id=resource_id,
                level=wanted,
                position=position,
                added_by=actor_id,
                added_at=now,
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError:
                raise UserFacingError(
                    f"Resource #{resource_id} is already on the {topic.name} path."
                ) from None
        return _step(row, resource)

    async def move(
        self,
        guild_id: int,
        topic: TopicInfo,
        resource_id: int,
        level: int,
        position: int | None = None,
    ) -> Step:
        """Put a resource at `level`, at `position` in it (1 = first; default: last)."""
        _check_level(level)
        if position is not None and position < 1:
            raise UserFacingError("The position starts at 1 (the first of the level).")
        async with self._sessions() as session, session.begin():
            steps = await _steps(session, guild_id, topic.id)
            moving = _require_step(steps, resource_id, topic)
            others = [s for s in steps if s.level == level and s is not moving]
            others.sort(key=lambda s: s.position)
            at = len(others) if position is None else min(position - 1, len(others))
            others.insert(at, moving)
            moving.level = level
            for index, step in enumerate(others, start=1):
                step.position = index
            resource = await _live_resource(session, guild_id, resource_id, removed_ok=True)
            return _step(moving, resource)

    async def remove(self, guild_id: int, topic: TopicInfo, resource_id: int) -> None:
        async with self._sessions() as session, session.begin():
            steps = await _steps(session, guild_id, topic.id)
            await session.delete(_require_step(steps, resource_id, topic))

    # --- members ---------------------------------------------------------------------------

    async def steps(self, guild_id: int, topic: TopicInfo, user_id: int) -> list[Step]:
        """The path in order, with the member's done marks; an error if the topic has none."""
        async with self._sessions() as session:
            return await _member_steps(session, guild_id, topic, user_id)

    async def start(self, guild_id: int, guild_name: str, user_id: int, topic: TopicInfo) -> Level:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            steps = await _member_steps(session, guild_id, topic, user_id)
            if await session.get(PathFollower, (guild_id, user_id, topic.id)) is None:
                session.add(
                    PathFollower(
                        guild_id=guild_id, user_id=user_id, topic_id=topic.id, started_at=now
                    )
                )
        return level_of(topic.id, topic.name, steps)

    async def next_step(
        self, guild_id: int, user_id: int, topic: TopicInfo | None = None
    ) -> tuple[str, Step] | None:
        """The next resource not done: in `topic`, else in the paths the member started (latest
        first). None when everything is done; an error when no path was started."""
        async with self._sessions() as session:
            for topic_id, name in await self._walked(session, guild_id, user_id, topic):
                steps = await _member_steps_by_id(session, guild_id, topic_id, name, user_id)
                step = next((s for s in steps if not s.done), None)
                if step is not None:
                    return name, step
        return None

    async def done(
        self, guild_id: int, guild_name: str, user_id: int, resource_id: int | None = None
    ) -> DoneResult:
        """Mark a path resource done (default: the next one); the levels it finished."""
        if resource_id is None:
            upcoming = await self.next_step(guild_id, user_id)
            if upcoming is None:
                raise UserFacingError("Every resource of the paths you started is done. 🎉")
            resource_id = upcoming[1].resource_id
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            results = await mark_done(session, guild_id, user_id, resource_id, now)
        if not results:
            raise UserFacingError(f"Resource #{resource_id} is on no topic's path.")
        return results[0]

    async def levels(self, guild_id: int, user_id: int) -> list[Level]:
        """The member's level on each path they started."""
        async with self._sessions() as session:
            return await member_levels(session, guild_id, user_id)

    async def _walked(
        self, session: AsyncSession, guild_id: int, user_id: int, topic: TopicInfo | None
    ) -> list[tuple[int, str]]:
        if topic is not None:
            await _member_steps(session, guild_id, topic, user_id)  # errors without a path
            return [(topic.id, topic.name)]
        rows = (
            await session.execute(
                select(Topic.id, Topic.name)
                .join(PathFollower, PathFollower.topic_id == Topic.id)
                .where(PathFollower.guild_id == guild_id, PathFollower.user_id == user_id)
                .order_by(PathFollower.started_at.desc(), Topic.id)
            )
        ).all()
        if not rows:
            raise UserFacingError("You haven't started a path yet: try `/path start`.")
        return [(int(i), str(n)) for i, n in rows]


async def mark_done(
    session: AsyncSession, guild_id: int, user_id: int, resource_id: int, now: datetime
) -> list[DoneResult]:
    """Mark a resource done for the member on every path it is on (in this session)."""
    topics = (
        await session.execute(
            select(Topic.id, Topic.name)
            .join(PathStep, PathStep.topic_id == Topic.id)
            .where(PathStep.guild_id == guild_id, PathStep.resource_id == resource_id)
            .order_by(Topic.id)
        )
    ).all()
    if not topics:
        return []
    before = {
        int(t): level_of(int(t), n, await _member_steps_by_id(session, guild_id, t, n, user_id))
        for t, n in topics
    }
    newly = await session.get(PathDone, (guild_id, user_id, resource_id)) is None
    if newly:
        session.add(
            PathDone(guild_id=guild_id, user_id=user_id, resource_id=resource_id, done_at=now)
        )
        await session.flush()
    results: list[DoneResult] = []
    for topic_id, name in topics:
        steps = await _member_steps_by_id(session, guild_id, topic_id, name, user_id)
        after = level_of(int(topic_id), name, steps)
        step = next(s for s in steps if s.resource_id == resource_id)
        milestones: tuple[Milestone, ...] = ()
        old = before[int(topic_id)]
        if after.finished and not old.finished:
            milestones = (Milestone(name, after.level, True),)
        elif after.level > old.level:
            milestones = (Milestone(name, after.level, False),)
        results.append(DoneResult(step, name, newly, milestones))
    return results


async def member_levels(session: AsyncSession, guild_id: int, user_id: int) -> list[Level]:
    rows = (
        await session.execute(
            select(Topic.id, Topic.name)
            .join(PathFollower, PathFollower.topic_id == Topic.id)
            .where(PathFollower.guild_id == guild_id, PathFollower.user_id == user_id)
            .order_by(Topic.name)
        )
    ).all()
    levels = []
    for topic_id, name in rows:
        steps = await _member_steps_by_id(session, guild_id, topic_id, name, user_id)
        if steps:
            levels.append(level_of(int(topic_id), name, steps))
    return levels


def level_of(topic_id: int, topic_name: str, steps: Sequence[Step]) -> Level:
    """The first level with a resource not done; the last one (finished) when all are done."""
    numbers = sorted({s.level for s in steps})
    open_levels = sorted({s.level for s in steps if not s.done})
    done = sum(1 for s in steps if s.done)
    top = numbers[-1] if numbers else 1
    if not open_levels:
        return Level(topic_id, topic_name, top, top, bool(steps), done, len(steps))
    return Level(topic_id, topic_name, open_levels[0], top, False, done, len(steps))


async def _member_steps(
    session: AsyncSession, guild_id: int, topic: TopicInfo, user_id: int
) -> list[Step]:
    steps = await _member_steps_by_id(session, guild_id, topic.id, topic.name, user_id)
    if not steps:
        raise UserFacingError(f"The {topic.name} topic has no path yet.")
    return steps


async def _member_steps_by_id(
    session: AsyncSession, guild_id: int, topic_id: int, topic_name: str, user_id: int
) -> list[Step]:
    done = PathDone
    rows = await session.execute(
        select(PathStep, LibraryResource, done.user_id)
        .join(LibraryResource, LibraryResource.id == PathStep.resource_id)
        .outerjoin(
            done,
            (done.guild_id == guild_id)
            & (done.user_id == user_id)
            & (done.resource_id == PathStep.resource_id),
        )
        .where(
            PathStep.guild_id == guild_id,
            PathStep.topic_id == topic_id,
            LibraryResource.deleted_at.is_(None),
        )
        .order_by(PathStep.level, PathStep.position, PathStep.id)
    )
    return [_step(step, resource, marked is not None) for step, resource, marked in rows]


async def _steps(session: AsyncSession, guild_id: int, topic_id: int) -> list[PathStep]:
    return list(
        (
            await session.scalars(
                select(PathStep)
                .where(PathStep.guild_id == guild_id, PathStep.topic_id == topic_id)
                .order_by(PathStep.level, PathStep.position, PathStep.id)
            )
        ).all()
    )


async def _live_resource(
    session: AsyncSession, guild_id: int, resource_id: int, *, removed_ok: bool = False
) -> LibraryResource:
    row = await session.get(LibraryResource, resource_id)
    if row is None or row.guild_id != guild_id or (row.deleted_at and not removed_ok):
        raise UserFacingError(f"There is no resource #{resource_id} in the library.")
    return row


def _require_step(steps: Sequence[PathStep], resource_id: int, topic: TopicInfo) -> PathStep:
    step = next((s for s in steps if s.resource_id == resource_id), None)
    if step is None:
        if not steps:
            raise UserFacingError(f"The {topic.name} topic has no path yet.")
        raise UserFacingError(f"Resource #{resource_id} is not on the {topic.name} path.")
    return step


def _check_level(level: int | None) -> None:
    if level is not None and not 1 <= level <= MAX_LEVEL:
        raise UserFacingError(f"Levels go from 1 to {MAX_LEVEL}.")


def _step(row: PathStep, resource: LibraryResource, done: bool = False) -> Step:
    return Step(
        resource_id=row.resource_id,
        title=resource.title or resource.url,
        url=resource.url,
        level=row.level,
        position=row.position,
        done=done,
    )
