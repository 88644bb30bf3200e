"""The outbox on a real database: each post once, across crashes, with a fake Discord channel
that de-duplicates by nonce as Discord does (`enforce_nonce`) and can be searched afterwards."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.guilds.service import ensure_guild_row
from bot.scheduling import (
    Handler,
    KindRegistry,
    Outbox,
    Outgoing,
    Runner,
    ScheduleService,
    SlotContext,
    parse_when,
)
from bot.scheduling.outbox import MAX_NONCE, nonce_for

GUILD = 1001
CHANNEL = 55


class Channel:
    """What Discord keeps of the bot's posts: (id, nonce, fingerprint, when), in order."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.posts: list[tuple[int, str, str, datetime]] = []
        self.nonces: list[str] = []
        self.lookups = 0
        # A crash: Discord makes the post, the bot dies before it hears back.
        self.die_after_posting = False
        self.die_before_posting = False

    def outgoing(self, text: str, **memo: int) -> Outgoing:
        async def send(nonce: str) -> int:
            self.nonces.append(nonce)
            if self.die_before_posting:
                raise ConnectionError("the process died before the request went out")
            for post_id, seen, _, _ in self.posts:
                if seen == nonce:  # enforce_nonce: the first message, again
                    return post_id
            post_id = 1000 + len(self.posts)
            self.posts.append((post_id, nonce, text, self.clock.now()))
            if self.die_after_posting:
                raise ConnectionError("the process died before the answer came back")
            return post_id

        return Outgoing("message", CHANNEL, text, send, dict(memo))

    async def find(self, kind: str, channel_id: int, printed: str, since: datetime) -> int | None:
        self.lookups += 1
        assert (kind, channel_id) == ("message", CHANNEL)
        for post_id, _, text, at in self.posts:
            if text == printed and at >= since:
                return post_id
        return None

    @property
    def texts(self) -> list[str]:
        return [text for _, _, text, _ in self.posts]


@pytest.fixture
async def channel(sessions: SessionFactory, clock: FakeClock) -> Channel:
    async with sessions() as session, session.begin():
        await ensure_guild_row(session, GUILD, "PLN", clock.now())
    return Channel(clock)


def outbox(sessions: SessionFactory, clock: FakeClock, channel: Channel) -> Outbox:
    return Outbox(sessions, clock, channel.find)


async def test_a_part_is_posted_once_however_often_it_is_asked_for(
    sessions: SessionFactory, clock: FakeClock, channel: Channel
) -> None:
    posts = outbox(sessions, clock, channel).scope(GUILD, "run:1")
    first = await posts.once("prompt", channel.outgoing("hello", prompt_id=7))
    again = await posts.once("prompt", channel.outgoing("hello, later"))
    assert first.fresh and not again.fresh and again.id == first.id
    assert again.memo == {"prompt_id": 7} and await posts.memo("prompt") == {"prompt_id": 7}
    assert channel.texts == ["hello"] and channel.lookups == 0  # recorded: no need to look
    assert await posts.sent() == {"prompt": first.id}
    other = outbox(sessions, clock, channel).scope(GUILD, "run:2")
    assert await other.sent() == {} and await other.memo("prompt") is None
    assert (await other.once("prompt", channel.outgoing("hello"))).fresh  # another scope


async def test_a_post_that_reached_discord_before_the_crash_is_found_not_repeated(
    sessions: SessionFactory, clock: FakeClock, channel: Channel
) -> None:
    posts = outbox(sessions, clock, channel).scope(GUILD, "run:1")
    channel.die_after_posting = True
    with pytest.raises(ConnectionError):
        await posts.once("q1", channel.outgoing("Q1"))
    assert await posts.sent() == {}  # the id never came back
    channel.die_after_posting = False
    clock.advance(timedelta(minutes=11))  # long past Discord's nonce window
    resumed = (
        await outbox(sessions, clock, channel)
        .scope(GUILD, "run:1")
        .once("q1", channel.outgoing("Q1 (posted late)"))
    )
    assert not resumed.fresh and resumed.id == channel.posts[0][0]
    assert channel.texts == ["Q1"] and channel.lookups == 1
    assert await posts.sent() == {"q1": resumed.id}


async def test_a_post_lost_in_the_crash_is_sent_on_resume_as_it_reads_now(
    sessions: SessionFactory, clock: FakeClock, channel: Channel
) -> None:
    posts = outbox(sessions, clock, channel).scope(GUILD, "run:1")
    channel.die_before_posting = True
    with pytest.raises(ConnectionError):
        await posts.once("prompt", channel.outgoing("What next?", prompt_id=3))
    channel.die_before_posting = False
    assert await posts.memo("prompt") == {"prompt_id": 3}  # what it had chosen
    clock.advance(timedelta(minutes=11))
    resumed = await posts.once("prompt", channel.outgoing("What next? (late)", prompt_id=3))
    assert resumed.fresh and channel.texts == ["What next? (late)"]
    assert channel.nonces[0] == channel.nonces[1]  # the same nonce on every attempt
    # A third attempt (another crash right after) finds the second one, late text and all.
    assert (await posts.once("prompt", channel.outgoing("again"))).id == resumed.id


async def test_two_attempts_at_once_make_one_post(
    sessions: SessionFactory, clock: FakeClock, channel: Channel
) -> None:
    # A chat's next question, asked for by its step and by a moderator's skip at the same time:
    # the loser finds the row written and no post yet, and resends with the part's nonce.
    posts = outbox(sessions, clock, channel).scope(GUILD, "chat:9")
    both = await asyncio.gather(
        posts.once("q2", channel.outgoing("Q2")), posts.once("q2", channel.outgoing("Q2"))
    )
    assert both[0].id == both[1].id and channel.texts == ["Q2"]


def test_nonces_fit_discords_limit_and_stay_the_same() -> None:
    assert nonce_for("run:12", "prompt") == "run:12/prompt"
    long = nonce_for("chat:123456789012", "summary-channel")
    assert len(long) == MAX_NONCE and long == nonce_for("chat:123456789012", "summary-channel")
    assert long != nonce_for("chat:123456789012", "summary")


async def test_a_slot_resumed_after_its_process_died_posts_through_its_run_once(
    sessions: SessionFactory, clock: FakeClock, channel: Channel
) -> None:
    posting = asyncio.Event()
    slots: list[SlotContext] = []

    async def handler(slot: SlotContext) -> str:
        slots.append(slot)
        text = "Posted late" if slot.late else "On time"
        await slot.outbox.once("post", channel.outgoing(text))
        return "posted"

    async def dies_in_the_send(slot: SlotContext) -> str:
        async def never_answered(_nonce: str) -> int:
            channel.posts.append((1, _nonce, "On time", clock.now()))  # Discord made it
            posting.set()
            await asyncio.Event().wait()  # and the process died waiting for the answer
            raise AssertionError("unreachable")

        await slot.outbox.once("post", Outgoing("message", CHANNEL, "On time", never_answered))
        return "unreachable"

    service = ScheduleService(sessions, clock)
    rule = parse_when("daily at 13:00", "UTC", clock.now())
    info = await service.create(GUILD, "PLN", 42, kind="post", rule=rule)
    reports: list[str] = []

    async def report(_guild_id: int, text: str) -> None:
        reports.append(text)

    def runner(owner: str, run: Handler) -> Runner:
        registry = KindRegistry()
        registry.register("post", run, resume_after_crash=True, grace=timedelta(hours=2))
        return Runner(
            sessions,
            clock,
            registry,
            report=report,
            owner=owner,
            outbox=outbox(sessions, clock, channel),
        )

    clock.advance(timedelta(hours=1))
    dying = asyncio.create_task(runner("dead", dies_in_the_send).run_due())
    await posting.wait()
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    clock.advance(timedelta(minutes=11))
    resumed = await runner("alive", handler).run_due()
    assert resumed.recovered == [(info.id, clock.now() - timedelta(minutes=11))]
    assert len(resumed.done) == 1 and slots[0].recovered and slots[0].late
    assert channel.texts == ["On time"] and reports == []  # found: not repeated, no alarm
    [run] = await service.runs(GUILD, info.id)
    assert run.status == "done"
