"""The transcript on a terminal: a conversation, channel by channel, as it happens.

`RichView` draws it with rich (colours, embeds as panels) on a terminal; `PlainView` writes the
same lines as plain text when the output is a file or a pipe. Both read the same entries, and
`lines(entry)` decides what each says.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from pln_demo.text import bold_spans, plain
from pln_demo.transcript import EmbedText, Entry

INDENT = 8
BOT_NAME = "PLN bot"


@dataclass(frozen=True)
class Line:
    """The first line of an entry, in parts: (text, style) pairs."""

    parts: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts)


def clock_of(entry: Entry) -> str:
    return datetime.fromisoformat(entry.at).strftime("%H:%M")


def head(entry: Entry) -> Line:
    """Who did what, where: the line every entry starts with."""
    when = (f"{clock_of(entry)} ", "dim")
    where = (f"{entry.channel}  ", "cyan") if entry.channel else ("", "")
    who = entry.who or ""
    if entry.kind == "command":
        return Line((when, where, (f"{who} ", "bold"), ("› ", "dim"), (entry.text, "green")))
    if entry.kind == "click":
        return Line((when, where, (f"{who} ", "bold"), (f"clicks [{entry.text}]", "green")))
    if entry.kind == "select":
        return Line((when, where, (f"{who} ", "bold"), (f"chooses {entry.text}", "green")))
    if entry.kind == "form":
        return Line((when, where, (f"{who} ", "bold"), ("fills in the form", "green")))
    if entry.kind == "reaction":
        return Line((when, where, (f"{who} ", "bold"), (f"reacts {entry.text}", "")))
    if entry.kind == "deleted":
        return Line((when, where, (f"{who}'s message was deleted", "dim")))
    if entry.kind == "log":
        return Line((when, (f"log {entry.level} {entry.who}: ", "yellow"), (entry.text, "yellow")))
    if entry.kind == "note":
        return Line((("        ", ""), (entry.text, "italic dim")))
    name_style = "bold blue" if entry.bot else "bold"
    parts = [when, where, (who, name_style)]
    if entry.kind == "modal":
        parts.append((f" opens a form for {entry.only_for}: {entry.text}", "magenta"))
        return Line(tuple(parts))
    if entry.bot and entry.reply:
        parts.append((" ↳", "dim"))
    elif entry.bot:
        parts.append((" (posts on its own)", "dim"))
    if entry.kind == "edit":
        parts.append((" (edited)", "dim"))
    if entry.only_for:
        parts.append((f" (only {entry.only_for} sees this)", "italic magenta"))
    return Line(tuple(parts))


def body(entry: Entry) -> list[str]:
    """The message text and the rest, as plain lines (without the indent)."""
    if entry.kind in ("command", "click", "select", "reaction", "deleted", "log", "note"):
        return []
    if entry.kind == "chapter" or entry.kind == "step" or entry.kind == "modal":
        return []
    lines = entry.text.splitlines() if entry.text else []
    for embed in entry.embeds:
        lines += [f"┃ {line}" for line in embed_lines(embed)]
    lines += list(entry.components)
    lines += [f"📎 {name}" for name in entry.attachments]
    return lines


def embed_lines(embed: EmbedText) -> list[str]:
    lines = [f"{embed.title}"] if embed.title else []
    lines += embed.description.splitlines()
    for name, value in embed.fields:
        lines.append(f"{name}: {value}" if "\n" not in value else name)
        if "\n" in value:
            lines += [f"  {part}" for part in value.splitlines()]
    if embed.footer:
        lines.append(f"— {embed.footer}")
    return lines


def _unless_closed(show: Callable[[], None]) -> None:
    """Write, or, once the reader has gone (`plnbot demo | head`), write to nowhere: the demo
    plays on and keeps its transcript."""
    try:
        show()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class PlainView:
    """Plain lines, for a file or a pipe."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def show(self, entry: Entry) -> None:
        if entry.kind == "chapter":
            self._write("", f"==== {entry.text} ====")
            return
        if entry.kind == "step":
            self._write("", f"▶ {entry.text}")
            return
        self._write(plain(head(entry).text), *(" " * INDENT + plain(line) for line in body(entry)))

    def _write(self, *lines: str) -> None:
        def write() -> None:
            self._out.write("\n".join(lines) + "\n")
            self._out.flush()

        _unless_closed(write)


class RichView:
    """Colours and panels, for a terminal."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def show(self, entry: Entry) -> None:
        _unless_closed(lambda: self._show(entry))

    def _show(self, entry: Entry) -> None:
        console = self._console
        if entry.kind == "chapter":
            console.print()
            console.rule(Text(entry.text, style="bold"))
            return
        if entry.kind == "step":
            console.print()
            console.print(Text(f"▶ {entry.text}", style="bold cyan"))
            return
        parts: list[RenderableType] = [Text.assemble(*head(entry).parts)]
        text = [line for line in entry.text.splitlines()] if entry.text else []
        if entry.kind in ("message", "edit") and text:
            parts.append(Padding(_marked("\n".join(text)), (0, 0, 0, INDENT)))
        elif entry.kind == "form":
            parts.append(Padding(Text(entry.text, style="green"), (0, 0, 0, INDENT)))
        for embed in entry.embeds:
            parts.append(Padding(_panel(embed), (0, 0, 0, INDENT)))
        extras = [*entry.components, *(f"📎 {name}" for name in entry.attachments)]
        if extras:
            parts.append(Padding(Text("  ".join(extras), style="yellow"), (0, 0, 0, INDENT)))
        console.print(Group(*parts))


def _marked(text: str) -> Text:
    result = Text()
    for piece, bold in bold_spans(text):
        result.append(piece, style="bold" if bold else "")
    return result


def _panel(embed: EmbedText) -> Panel:
    lines = embed.description.splitlines()
    for name, value in embed.fields:
        lines += [f"**{name}**", *value.splitlines()]
    content = _marked("\n".join(lines)) if lines else Text("")
    return Panel(
        content,
        title=_marked(embed.title) if embed.title else None,
        title_align="left",
        subtitle=Text(embed.footer, style="dim") if embed.footer else None,
        subtitle_align="left",
        box=box.ROUNDED,
        border_style="blue",
        expand=False,
    )
