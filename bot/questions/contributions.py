"""Thanks, the contribution counts (/me stats, /pln contributors) and the helper role's rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clean import clean_text
from bot.clock import Clock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import ensure_guild_row, record_audit
from bot.members.models import MemberPrivacy
from bot.questions import ledger
from bot.questions.models import Contribution, QuestionSettings, Thanks
from bot.questions.records import ContributorScore, Counts, HelperRole, MemberStats, ThanksGiven
from bot.scheduling.recurrence import Recurrence
from bot.scheduling.schedules import BOT_ACTOR, add_schedule, delete_schedules

HELPERS_KIND = "questions.helpers"
DAY = timedelta(days=1)
HELPER_WINDOW = timedelta(days=30)
MAX_NOTE = 300
DEFAULT_THRESHOLD = 10
MAX_CONTRIBUTORS = 25


class ContributionService:
    def __init__(self, sessions: SessionFactory, clock: Clock, *, thanks_per_day: int) -> None:
        self._sessions = sessions
        self._clock = clock
        self.thanks_per_day = thanks_per_day

    # --- thanks --------------------------------------------------------------------------

    async def thank(
        self,
        guild_id: int,
        guild_name: str | None,
        giver_id: int,
        receiver_id: int,
        *,
        receiver_is_bot: bool,
        channel_id: int,
        message_id: int | None = None,
        note: str | None = None,
    ) -> ThanksGiven:
        """One thanks; refused (nothing saved) to oneself, to a bot, twice for one message, or
        over the giver's limit for 24 hours. Thanks between the same two members score once a
        day: later ones are counted, not scored."""
        if receiver_id == giver_id:
            raise UserFacingError("Thanking yourself does not count; thank someone who helped.")
        if receiver_is_bot:
            raise UserFacingError("Bots do not need thanks; thank a member who helped.")
        text = " ".join(clean_text(note or "").split())
        if len(text) > MAX_NOTE:
            raise UserFacingError(f"Keep the thanks note under {MAX_NOTE} characters.")
        now = self._clock.now()
        try:
            async with self._sessions() as session, session.begin():
                await ensure_guild_row(session, guild_id, guild_name, now)
                given = await _given_since(session, guild_id, giver_id, now - DAY)
                if given >= self.thanks_per_day:
                    raise UserFacingError(
                        f"You have given {given} thanks in the last 24 hours, the most this "
                        "server allows; try again tomorrow."
                    )
                if message_id is not None and await session.scalar(
                    select(Thanks.id).where(
                        Thanks.guild_id == guild_id,
                        Thanks.giver_id == giver_id,
                        Thanks.message_id == message_id,
                    )
                ):
                    raise UserFacingError("You already thanked this message.")
                recent_pair = await session.scalar(
                    select(func.count())
                    .select_from(Thanks)
                    .where(
                        Thanks.guild_id == guild_id,
                        Thanks.giver_id == giver_id,
                        Thanks.receiver_id == receiver_id,
                        Thanks.given_at > now - DAY,
                    )
                )
                row = Thanks(
                    guild_id=guild_id,
                    giver_id=giver_id,
                    receiver_id=receiver_id,
                    message_id=message_id,
                    channel_id=channel_id,
                    note=text,
                    given_at=now,
                )
                session.add(row)
                await session.flush()
                scored = not recent_pair
                ledger.add(
                    session, guild_id, receiver_id, "thanks", now, ref_id=row.id, scored=scored
                )
                total = await session.scalar(
                    select(func.count())
                    .select_from(Thanks)
                    .where(Thanks.guild_id == guild_id, Thanks.receiver_id == receiver_id)
                )
        except IntegrityError as error:  # the same message thanked twice at once
            raise UserFacingError("You already thanked this message.") from error
        return ThanksGiven(receiver_id, int(total or 0), scored, given + 1)

    # --- counts --------------------------------------------------------------------------

    async def stats(self, guild_id: int, member_id: int) -> MemberStats:
        now = self._clock.now()
        async with self._sessions() as session:
            recent = await ledger.counts_by_member(
                session, guild_id, now - HELPER_WINDOW, member_id
            )
            ever = await ledger.counts_by_member(session, guild_id, None, member_id)
            first_share = await ledger.first_share_at(session, guild_id, member_id)
            first_answer = await ledger.first_answer_at(session, guild_id, member_id)
            given = await session.scalar(
                select(func.count())
                .select_from(Thanks)
                .where(Thanks.guild_id == guild_id, Thanks.giver_id == member_id)
            )
        empty = Counts()
        return MemberStats(
            last_30_days=recent.get(member_id, empty),
            all_time=ever.get(member_id, empty),
            first_share_at=first_share,
            first_answer_at=first_answer,
            thanks_given=int(given or 0),
        )

    async def contributors(
        self, guild_id: int, days: int, *, limit: int = MAX_CONTRIBUTORS
    ) -> list[ContributorScore]:
        """The top scores of the last `days` days, best first, without members who opted out."""
        now = self._clock.now()
        async with self._sessions() as session:
            counts = await ledger.counts_by_member(session, guild_id, now - timedelta(days=days))
            hidden = set(
                (
                    await session.scalars(
                        select(MemberPrivacy.user_id).where(
                            MemberPrivacy.guild_id == guild_id,
                            MemberPrivacy.hide_from_contributors.is_(True),
                        )
                    )
                ).all()
            )
        ranked = sorted(
            (ContributorScore(m, c) for m, c in counts.items() if m not in hidden and c.score > 0),
            key=lambda s: (-s.counts.score, s.member_id),
        )
        return ranked[:limit]

    async def thanks_received(self, guild_id: int, member_id: int) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(Contribution)
                .where(
                    Contribution.guild_id == guild_id,
                    Contribution.member_id == member_id,
                    Contribution.kind == "thanks",
                )
            )
        return int(count or 0)

    # --- the helper role -----------------------------------------------------------------

    async def helper_role(self, guild_id: int) -> HelperRole:
        async with self._sessions() as session:
            row = await session.get(QuestionSettings, guild_id)
        if row is None:
            return HelperRole(guild_id, None, DEFAULT_THRESHOLD)
        return HelperRole(guild_id, row.helper_role_id, row.helper_threshold)

    async def set_helper_role(
        self,
        guild_id: int,
        guild_name: str | None,
        role_id: int | None,
        threshold: int | None,
        *,
        actor_id: int,
    ) -> HelperRole:
        if threshold is not None and not 1 <= threshold <= 10_000:
            raise UserFacingError("The threshold is a score from 1 to 10000.")
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await ensure_guild_row(session, guild_id, guild_name, now)
            row = await session.get(QuestionSettings, guild_id)
            if row is None:
                row = QuestionSettings(guild_id=guild_id, helper_threshold=DEFAULT_THRESHOLD)
                session.add(row)
            row.helper_role_id = role_id
            if threshold is not None:
                row.helper_threshold = threshold
            # Scores fall as events leave the 30 days: a daily pass takes the role back.
            if role_id is None and row.refresh_schedule_id is not None:
                await delete_schedules(session, guild_id, [row.refresh_schedule_id])
                row.refresh_schedule_id = None
            elif role_id is not None and row.refresh_schedule_id is None:
                schedule = await add_schedule(
                    session,
                    now,
                    guild_id,
                    BOT_ACTOR,
                    kind=HELPERS_KIND,
                    rule=Recurrence("daily", time(0, 0), "UTC", now.date()),
                    label="helper role",
                    audit=False,
                )
                row.refresh_schedule_id = schedule.id
            await record_audit(
                session,
                guild_id=guild_id,
                actor_id=actor_id,
                action="questions.helper_role",
                target=f"role {role_id}" if role_id else "no role",
                now=now,
                details={"threshold": row.helper_threshold},
            )
            return HelperRole(guild_id, row.helper_role_id, row.helper_threshold)

    async def helpers(
        self, guild_id: int, members: Sequence[int] | None = None
    ) -> tuple[HelperRole, set[int]]:
        """The helper role and the members (all, or among `members`) whose 30-day score reaches
        its threshold now."""
        role = await self.helper_role(guild_id)
        if role.role_id is None:
            return role, set()
        since = self._clock.now() - HELPER_WINDOW
        counts: dict[int, Counts] = {}
        async with self._sessions() as session:
            for member in members if members is not None else [None]:
                counts |= await ledger.counts_by_member(session, guild_id, since, member)
        return role, {m for m, c in counts.items() if c.score >= role.threshold}


async def _given_since(session: AsyncSession, guild_id: int, giver_id: int, since: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Thanks)
        .where(Thanks.guild_id == guild_id, Thanks.giver_id == giver_id, Thanks.given_at > since)
    )
    return int(count or 0)
