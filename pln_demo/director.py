"""The director: members act through the emulator as a real client would, the clock moves to the
story's next moment, and every step checks what members would see (a step whose result is
missing stops the demo with a clear message)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.core import PLNBot
from discord_emulator import Channel, DiscordEmulator, Message
from discord_emulator.state import InteractionRecord
from pln_demo.clock import DemoClock
from pln_demo.commands import Command
from pln_demo.community import Community, Person
from pln_demo.transcript import Transcript

T = TypeVar("T")
WAIT_SECONDS = 10.0


class DemoError(Exception):
    """A step of the story did not happen as it should (the message says which and how)."""


@dataclass(frozen=True)
class Pace:
    """Pauses in seconds: after each action, and when the clock jumps. Zero when `--fast`."""

    action: float
    jump: float

    @classmethod
    def fast(cls) -> Pace:
        return cls(0.0, 0.0)

    @classmethod
    def reading(cls) -> Pace:
        return cls(0.8, 1.5)


@dataclass
class Director:
    emulator: DiscordEmulator
    community: Community
    bot: PLNBot
    clock: DemoClock
    transcript: Transcript
    pace: Pace

    # --- acting ------------------------------------------------------------------------------

    async def invoke(
        self,
        who: Person,
        command: Command,
        options: dict[str, Any] | None = None,
        *,
        channel: Channel | None = None,
    ) -> InteractionRecord:
        record = await self.emulator.invoke(
            who.member, command.value, options, channel=channel or self.channel("general")
        )
        return record

    async def run(
        self,
        who: Person,
        command: Command,
        options: dict[str, Any] | None = None,
        *,
        channel: Channel | None = None,
    ) -> Message:
        """A slash command and the bot's answer (once a deferral is filled in)."""
        record = await self.invoke(who, command, options, channel=channel)
        answer = await self.emulator.wait_for_response(record)
        await self.beat()
        return answer

    async def followup(self, record: InteractionRecord, index: int = 0) -> Message:
        return await self.emulator.wait_for_followup(record, index)

    async def form(
        self, who: Person, opened: InteractionRecord, values: dict[str, str]
    ) -> InteractionRecord:
        submitted = await self.emulator.submit_modal(who.member, opened, values)
        await self.beat()
        return submitted

    async def click(self, who: Person, message: Message, label: str) -> Message:
        record = await self.emulator.click(who.member, message, label)
        answer = await self.emulator.wait_for_response(record)
        await self.beat()
        return answer

    async def choose(
        self, who: Person, message: Message, custom_id: str, labels: list[str]
    ) -> Message:
        """Pick options of a select menu by their labels."""
        select = next(c for c in message.all_components() if c.get("custom_id") == custom_id)
        values = {o["label"]: o["value"] for o in select.get("options") or []}
        missing = [label for label in labels if label not in values]
        if missing:
            raise DemoError(f"the menu has no option {missing}; it offers {sorted(values)}")
        record = await self.emulator.select(
            who.member, message, custom_id, [values[label] for label in labels]
        )
        answer = await self.emulator.wait_for_response(record)
        await self.beat()
        return answer

    async def post(self, who: Person, channel: Channel, text: str) -> Message:
        message = await self.emulator.post_message(who.member, channel, text)
        await self.beat()
        return message

    async def react(self, who: Person, message: Message, emoji: str) -> None:
        await self.emulator.react(who.member, message, emoji)
        await self.beat()

    # --- time --------------------------------------------------------------------------------

    async def move_to(self, instant: datetime) -> None:
        """Skip to `instant` (a new chapter of the transcript); `run_due` then does what is due."""
        self.clock.jump_to(instant)
        local = self.clock.now().astimezone(self.community.timezone)
        self.transcript.chapter(f"{local:%A} {local.day} {local:%B}, {local:%H:%M}")
        if self.pace.jump:
            await asyncio.sleep(self.pace.jump)

    async def run_due(self) -> None:
        """What the scheduler's alarm does at the clock's time: run every slot that is due."""
        scheduling = self.bot.services.scheduling
        await scheduling.runner.run_due()
        await scheduling.runner.join()
        await scheduling.changed()  # the real alarm, re-armed from the new time

    async def beat(self) -> None:
        if self.pace.action:
            await asyncio.sleep(self.pace.action)

    # --- looking -----------------------------------------------------------------------------

    def channel(self, name: str) -> Channel:
        state = self.emulator.state
        for channel in state.guild_channels(self.community.guild):
            if channel.name == name:
                return channel
        raise DemoError(f"there is no channel #{name}")

    def bot_posts(self, channel: Channel) -> list[Message]:
        """What the bot posted on its own in a channel (not answers to commands)."""
        bot_id = self.emulator.bot_user.id
        return [
            m
            for m in self.emulator.history(channel)
            if m.author.id == bot_id and m.interaction_id is None
        ]

    def threads_of(self, channel: Channel) -> list[Channel]:
        return [c for c in self.emulator.state.channels.values() if c.parent_id == channel.id]

    async def until(self, what: str, check: Callable[[], T | None]) -> T:
        """The first truthy `check()`, re-checked as the emulator changes; else a DemoError."""
        try:
            return await self.emulator.state.wait_until(check, WAIT_SECONDS, what)
        except TimeoutError:
            raise DemoError(f"waited {WAIT_SECONDS:.0f} s for {what}") from None

    async def until_async(self, what: str, check: Callable[[], Awaitable[T | None]]) -> T:
        """Like `until`, for checks of the bot's own state (its database)."""
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                while True:
                    if value := await check():
                        return value
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise DemoError(f"waited {WAIT_SECONDS:.0f} s for {what}") from None

    async def tick_until(
        self, what: str, check: Callable[[], T | None], *, step: timedelta, limit: timedelta
    ) -> T:
        """Move the clock on by `step` until `check()` holds, at most `limit` in all."""
        moved = timedelta()
        while (value := check()) is None or not value:
            if moved >= limit:
                raise DemoError(f"{what} did not happen within {limit} of story time")
            self.clock.jump_to(self.clock.now() + step)
            moved += step
            await self.run_due()
        return value


def expect(condition: object, problem: str) -> None:
    """A step's check: stops the story with `problem` when `condition` is false."""
    if not condition:
        raise DemoError(problem)
