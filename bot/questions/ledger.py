"""The contribution ledger: one row per event, counted per member over a window.

Accepted answers and thanks received are `contributions` rows. Shares, votes and saves are read
from the library's own rows, and chat-hour answers from the chats' counted replies (one per
member, chat run and question): those are already one row per event with members and instants,
and copying them would be a second truth that drifts when a vote is taken back or a resource
removed. Votes and saves on one's own share never count; bots' shares never count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chats.models import ChatReply
from bot.library.models import LibraryResource, LibrarySave, LibraryShare, LibraryVote
from bot.questions.models import Contribution
from bot.questions.records import Counts
from bot.questions.rules import score

CONTRIBUTION_FIELDS = {"answer": "answers", "thanks": "thanks"}


def add(
    session: AsyncSession,
    guild_id: int,
    member_id: int,
    kind: str,
    at: datetime,
    *,
    ref_id: int | None = None,
    scored: bool = True,
) -> None:
    session.add(
        Contribution(
            guild_id=guild_id, member_id=member_id, kind=kind, at=at, ref_id=ref_id, scored=scored
        )
    )


def _narrow(query: Any, column: Any, member_id: int | None) -> Any:
    """The query for one member, or for all."""
    return query if member_id is None else query.where(column == member_id)


async def counts_by_member(
    session: AsyncSession, guild_id: int, since: datetime | None, member_id: int | None = None
) -> dict[int, Counts]:
    """Each member's counts since `since` (all time if None), with their score."""
    tallies: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def after(column: Any) -> Any:
        return column >= since if since is not None else true()

    shares = _narrow(
        select(LibraryShare.member_id, func.count())
        .where(
            LibraryShare.guild_id == guild_id,
            LibraryShare.member_is_bot == false(),
            after(LibraryShare.shared_at),
        )
        .group_by(LibraryShare.member_id),
        LibraryShare.member_id,
        member_id,
    )
    votes = _narrow(
        select(LibraryShare.member_id, func.count())
        .select_from(LibraryVote)
        .join(
            LibraryShare,
            and_(
                LibraryShare.guild_id == LibraryVote.guild_id,
                LibraryShare.message_id == LibraryVote.message_id,
                LibraryShare.resource_id == LibraryVote.resource_id,
            ),
        )
        .where(
            LibraryVote.guild_id == guild_id,
            LibraryVote.member_id != LibraryShare.member_id,
            LibraryShare.member_is_bot == false(),
            after(LibraryVote.voted_at),
        )
        .group_by(LibraryShare.member_id),
        LibraryShare.member_id,
        member_id,
    )
    saves = _narrow(
        select(LibraryResource.first_sharer_id, func.count())
        .select_from(LibrarySave)
        .join(LibraryResource, LibraryResource.id == LibrarySave.resource_id)
        .where(
            LibrarySave.guild_id == guild_id,
            LibraryResource.deleted_at.is_(None),
            LibrarySave.member_id != LibraryResource.first_sharer_id,
            after(LibrarySave.saved_at),
        )
        .group_by(LibraryResource.first_sharer_id),
        LibraryResource.first_sharer_id,
        member_id,
    )
    for query, name in ((shares, "shares"), (votes, "votes_received"), (saves, "saves_received")):
        for member, count in (await session.execute(query)).all():
            tallies[int(member)][name] += int(count)
    chat_answers = _narrow(
        select(ChatReply.author_id, ChatReply.run_id, ChatReply.question)
        .distinct()
        .where(ChatReply.guild_id == guild_id, after(ChatReply.created_at)),
        ChatReply.author_id,
        member_id,
    )
    for member, _run, _question in (await session.execute(chat_answers)).all():
        tallies[int(member)]["chat_answers"] += 1
    events = _narrow(
        select(
            Contribution.member_id,
            Contribution.kind,
            func.count(),
            func.sum(cast(Contribution.scored, Integer)),
        )
        .where(Contribution.guild_id == guild_id, after(Contribution.at))
        .group_by(Contribution.member_id, Contribution.kind),
        Contribution.member_id,
        member_id,
    )
    for member, kind, count, scored in (await session.execute(events)).all():
        field = CONTRIBUTION_FIELDS.get(str(kind))
        if field is None:
            continue
        tallies[int(member)][field] += int(count)
        if field == "thanks":
            tallies[int(member)]["thanks_scored"] += int(scored or 0)
    result: dict[int, Counts] = {}
    for member, values in tallies.items():
        counts = Counts(**values)
        result[member] = replace(counts, score=score(counts))
    return result


async def first_share_at(session: AsyncSession, guild_id: int, member_id: int) -> datetime | None:
    return await session.scalar(
        select(func.min(LibraryShare.shared_at)).where(
            LibraryShare.guild_id == guild_id,
            LibraryShare.member_id == member_id,
            LibraryShare.member_is_bot == false(),
        )
    )


async def first_answer_at(session: AsyncSession, guild_id: int, member_id: int) -> datetime | None:
    return await session.scalar(
        select(func.min(Contribution.at)).where(
            Contribution.guild_id == guild_id,
            Contribution.member_id == member_id,
            Contribution.kind == "answer",
        )
    )
