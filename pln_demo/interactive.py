"""`--interactive`: after the story the emulated server stays up, and you type commands as one
of its people. The bot's answers appear in the transcript as they come.

    /search feedback                      as ana (the default), in #general
    as mona /recap now                    as the moderator
    as kai in #maths /share url:https://example.org/ title:"A good read"
    as lee click Save                     the last button "Save" lee can see
    who · channels · help · quit

Options are `name:value`, or values in the command's order. Channels are `#name`, people
`@name`, choices by their name (`weekday:Sunday`).
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from discord_emulator import Channel, EmulatorUsageError
from discord_emulator.state import InteractionRecord
from pln_demo.commands import Command
from pln_demo.community import Person
from pln_demo.director import DemoError, Director

DEFAULT_PERSON = "ana"
DEFAULT_CHANNEL = "general"
SETTLE_SECONDS = 0.5
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
MODAL = 9


class InputError(Exception):
    """What was typed cannot be run; the message says why."""


@dataclass(frozen=True)
class Typed:
    person: Person
    channel: Channel
    words: list[str]


def help_text() -> str:
    examples = [
        f"  {Command.SEARCH.typed} feedback",
        f"  as mona {Command.RECAP_NOW.typed}",
        f'  as kai in #maths {Command.SHARE.typed} url:https://example.org/ title:"A read"',
        "  as lee click Save",
        "  who · channels · help · quit",
    ]
    return (
        "The server is yours. Type a slash command as a member (ana unless you say `as NAME`), "
        "in #general unless you say `in #CHANNEL`:\n" + "\n".join(examples)
    )


class Interactive:
    def __init__(self, director: Director) -> None:
        self.director = director
        self._input = _Input()

    async def run(self) -> None:
        d = self.director
        d.transcript.chapter("Your turn")
        print(help_text(), flush=True)
        while (typed := await self._input.next()) is not None:
            line = typed.strip()
            if not line:
                continue
            if line in ("quit", "exit", "q"):
                break
            try:
                await self.do(line)
            except (InputError, EmulatorUsageError, DemoError, TimeoutError) as exc:
                print(f"  ✗ {exc}", flush=True)

    async def do(self, line: str) -> None:
        if line in ("help", "?"):
            print(help_text(), flush=True)
            return
        if line == "who":
            people = self.director.community.people
            print("  " + ", ".join(f"{p.name} ({p.timezone})" for p in people), flush=True)
            return
        if line == "channels":
            state = self.director.emulator.state
            names = [
                f"#{c.name}"
                for c in state.guild_channels(self.director.community.guild)
                if c.type in (0, 5, 15)
            ]
            print("  " + " ".join(names), flush=True)
            return
        typed = self.parse(line)
        if typed.words[0] == "click":
            await self.click(typed, " ".join(typed.words[1:]))
        else:
            await self.command(typed)

    def parse(self, line: str) -> Typed:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise InputError(f"cannot read that line: {exc}") from None
        d = self.director
        person, channel = d.community.person(DEFAULT_PERSON), d.channel(DEFAULT_CHANNEL)
        while len(words) >= 2 and words[0] in ("as", "in"):
            key, value, words = words[0], words[1], words[2:]
            if key == "as":
                try:
                    person = d.community.person(value)
                except KeyError as exc:
                    raise InputError(str(exc.args[0])) from None
            else:
                channel = d.channel(value.lstrip("#"))
        if not words or not (words[0].startswith("/") or words[0] == "click"):
            raise InputError("type a slash command (e.g. /search feedback), or `help`")
        return Typed(person, channel, words)

    async def click(self, typed: Typed, label: str) -> None:
        emulator = self.director.emulator
        visible = [
            m
            for m in emulator.state.messages.values()
            if not m.deleted and m.visible_to in (None, typed.person.id)
        ]
        for message in sorted(visible, key=lambda m: m.id, reverse=True):
            if any(c.get("label") == label for c in message.all_components()):
                record = await emulator.click(typed.person.member, message, label)
                await self._answered(typed, record)
                return
        raise InputError(f"{typed.person.name} sees no button labelled {label!r}")

    async def command(self, typed: Typed) -> None:
        path, options = self._options(typed)
        emulator = self.director.emulator
        record = await emulator.invoke(typed.person.member, path, options, channel=typed.channel)
        await self._answered(typed, record)

    async def _answered(self, typed: Typed, record: InteractionRecord) -> None:
        emulator = self.director.emulator
        await emulator.wait_until(lambda: record.acknowledged)
        if record.response_type == MODAL and record.modal is not None:
            values = await _fill_in(record.modal, self._input)
            submitted = await emulator.submit_modal(typed.person.member, record, values)
            await emulator.wait_until(lambda: submitted.acknowledged)
        else:
            await emulator.wait_for_response(record)
        await asyncio.sleep(SETTLE_SECONDS)  # follow-ups, and what the command set off
        await self.director.run_due()

    def _options(self, typed: Typed) -> tuple[str, dict[str, Any]]:
        state = self.director.emulator.state
        name, rest = typed.words[0].lstrip("/"), typed.words[1:]
        command = next(
            (c for c in state.global_commands if c["name"] == name and c.get("type", 1) == 1),
            None,
        )
        if command is None:
            known = " ".join(
                sorted("/" + c["name"] for c in state.global_commands if c.get("type", 1) == 1)
            )
            raise InputError(f"there is no /{name}; the bot has {known}")
        path, options = [name], command.get("options") or []
        while rest and any(o["name"] == rest[0] and o["type"] in (1, 2) for o in options):
            sub = next(o for o in options if o["name"] == rest[0])
            path.append(rest.pop(0))
            options = sub.get("options") or []
        if any(o["type"] in (1, 2) for o in options):
            names = ", ".join(o["name"] for o in options)
            raise InputError(f"/{' '.join(path)} needs one of: {names}")
        given: dict[str, Any] = {}
        by_name = {o["name"]: o for o in options}
        positional = []
        for word in rest:
            key, sep, value = word.partition(":")
            if sep and key in by_name:
                given[key] = self._value(by_name[key], value)
            else:
                positional.append(word)
        free = [o for o in options if o["name"] not in given]
        if len(positional) > len(free):
            raise InputError(f"too many values; /{' '.join(path)} takes {list(by_name) or 'none'}")
        if positional and len(free) >= 1 and free[0]["type"] == STRING and len(free) == 1:
            positional = [" ".join(positional)]
        for option, word in zip(free, positional, strict=False):
            given[option["name"]] = self._value(option, word)
        return " ".join(path), given

    def _value(self, option: dict[str, Any], text: str) -> Any:
        d = self.director
        kind = option["type"]
        choices = option.get("choices") or []
        if choices:
            for choice in choices:
                if str(choice["name"]).lower() == text.lower() or str(choice["value"]) == text:
                    return choice["value"]
            names = ", ".join(str(c["name"]) for c in choices)
            raise InputError(f"{option['name']} is one of: {names}")
        try:
            if kind == INTEGER:
                return int(text)
            if kind == NUMBER:
                return float(text)
        except ValueError:
            raise InputError(f"{option['name']} takes a number, not {text!r}") from None
        if kind == BOOLEAN:
            if text.lower() in ("true", "yes", "on", "1"):
                return True
            if text.lower() in ("false", "no", "off", "0"):
                return False
            raise InputError(f"{option['name']} is true or false")
        if kind == CHANNEL:
            return d.channel(text.lstrip("#"))
        if kind in (USER, MENTIONABLE):
            try:
                return d.community.person(text).member
            except KeyError as exc:
                raise InputError(str(exc.args[0])) from None
        if kind == ROLE:
            role = next(
                (r for r in d.community.guild.roles.values() if r.name == text.lstrip("@")), None
            )
            if role is None:
                raise InputError(f"there is no role {text!r}")
            return role
        return text


async def _fill_in(modal: dict[str, Any], typed_lines: _Input) -> dict[str, str]:
    """Ask for each field of the form the bot opened; a paragraph ends with an empty line."""
    values: dict[str, str] = {}
    for item in _fields(modal.get("components") or []):
        paragraph = item.get("style") == 2
        hint = " (an empty line ends it)" if paragraph else ""
        print(f"  {item.get('label') or item['custom_id']}{hint}:", flush=True)
        collected: list[str] = []
        while (line := await typed_lines.next("  … ")) is not None:
            if not paragraph:
                collected.append(line.strip())
                break
            if not line.strip():
                break
            collected.append(line.rstrip("\n"))
        values[item["custom_id"]] = "\n".join(collected)
    return values


def _fields(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in components:
        if item.get("type") == 4:
            found.append(item)
        found += _fields(item.get("components") or [])
        if isinstance(item.get("component"), dict):
            found += _fields([item["component"]])
    return found


class _Input:
    """Lines from standard input, read without blocking the event loop (the bot keeps
    running while you type); None at the end of the input."""

    def __init__(self) -> None:
        self._reader: asyncio.StreamReader | None = None
        self._pipe = True
        self._prompt = sys.stdin.isatty()  # typed lines, not a file read in

    async def next(self, prompt: str = "> ") -> str | None:
        if self._prompt:
            print(prompt, end="", flush=True)
        if self._pipe and self._reader is None:
            reader = asyncio.StreamReader()
            try:
                await asyncio.get_running_loop().connect_read_pipe(
                    lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
                )
                self._reader = reader
            except (ValueError, OSError):  # a regular file: read it in a thread instead
                self._pipe = False
        if self._reader is None:
            line = await asyncio.to_thread(sys.stdin.readline)
        else:
            line = (await self._reader.readline()).decode(errors="replace")
        return line or None
