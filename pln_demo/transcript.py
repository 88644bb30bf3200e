"""What happened, as entries: who typed which command, what the bot answered and posted.

The transcript watches the emulator (`DiscordEmulator.watch`), so it shows whatever happens,
whether the story or a person at the keyboard caused it. Each entry is shown at once by the
view (`pln_demo.render`) and kept for the JSON transcript that `--keep` writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from discord_emulator import Channel, ChannelType, DiscordEmulator, Happening, Message
from discord_emulator.state import InteractionRecord
from pln_demo.community import Community
from pln_demo.text import Markup

EntryKind = Literal[
    "chapter",
    "step",
    "command",
    "click",
    "select",
    "form",
    "modal",
    "message",
    "edit",
    "deleted",
    "reaction",
    "note",
    "log",
]
# Interaction types (Discord's numbers).
_COMMAND, _COMPONENT, _MODAL_SUBMIT = 2, 3, 5
_SUBCOMMAND, _GROUP = 1, 2
_USER_OPTION, _CHANNEL_OPTION, _ROLE_OPTION, _MENTIONABLE = 6, 7, 8, 9


@dataclass(frozen=True)
class EmbedText:
    title: str = ""
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    at: str  # the demo clock's time, ISO 8601 in the server's zone
    text: str = ""
    who: str | None = None  # who acted, or wrote the message
    channel: str | None = None  # "#general", "#general › EdChat · 2026-03-12", "DM with hana"
    only_for: str | None = None  # an ephemeral message: the one member who sees it
    bot: bool = False  # written by the bot
    reply: bool = False  # the bot's answer to an interaction (not posted on its own)
    embeds: tuple[EmbedText, ...] = ()
    components: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    step: str | None = None  # the story step during which it happened
    level: str | None = None  # for log entries


class View(Protocol):
    def show(self, entry: Entry) -> None: ...


@dataclass
class StepResult:
    name: str
    title: str
    ok: bool = False
    seconds: float = 0.0
    error: str | None = None


@dataclass
class Transcript:
    emulator: DiscordEmulator
    community: Community
    now: Callable[[], datetime]
    view: View
    entries: list[Entry] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    current_step: str | None = None
    markup: Markup = field(init=False)
    _loading: set[int] = field(default_factory=set)
    # What each message showed last: an edit that changes nothing visible is not shown again.
    _shown: dict[int, tuple[object, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        state = self.emulator.state
        self.markup = Markup(
            user=self.name_of,
            role=lambda i: r.name if (r := self.community.guild.roles.get(i)) else "deleted-role",
            channel=lambda i: (
                self.channel_label(state.channels[i]) if i in state.channels else "#?"
            ),
        )

    # --- entries -------------------------------------------------------------------------------

    def add(self, kind: EntryKind, text: str = "", **details: Any) -> Entry:
        at = self.now().astimezone(self.community.timezone).isoformat(timespec="seconds")
        entry = Entry(kind, at, text, step=self.current_step, **details)
        self.entries.append(entry)
        self.view.show(entry)
        return entry

    def begin(self, name: str, title: str) -> StepResult:
        """A story step starts: what follows happens during it."""
        result = StepResult(name, title)
        self.steps.append(result)
        self.current_step = name
        self.add("step", title)
        return result

    def chapter(self, title: str) -> None:
        self.add("chapter", title)

    def note(self, text: str) -> None:
        self.add("note", text)

    def log(self, record: logging.LogRecord) -> None:
        self.add("log", record.getMessage(), who=record.name, level=record.levelname)

    def watch(self) -> Callable[[], None]:
        return self.emulator.watch(self._happened)

    def as_json(self, **about: Any) -> dict[str, Any]:
        return {
            **about,
            "steps": [asdict(step) for step in self.steps],
            "entries": [asdict(entry) for entry in self.entries],
        }

    # --- names ---------------------------------------------------------------------------------

    def name_of(self, user_id: int) -> str:
        person = self.community.by_id(user_id)
        if person is not None:
            return person.name
        user = self.emulator.state.users.get(user_id)
        return user.username if user is not None else "someone"

    def _role_name(self, role_id: int) -> str:
        role = self.community.guild.roles.get(role_id)
        return role.name if role is not None else "deleted-role"

    def _channel_name(self, channel_id: int) -> str:
        channel = self.emulator.state.channels.get(channel_id)
        return self.channel_label(channel) if channel is not None else "#deleted-channel"

    def channel_label(self, channel: Channel) -> str:
        if channel.type == ChannelType.DM:
            return f"DM with {self.name_of(channel.recipient_ids[0])}"
        if channel.is_thread and channel.parent_id in self.emulator.state.channels:
            parent = self.emulator.state.channels[channel.parent_id]
            return f"#{parent.name} › {channel.name}"
        return f"#{channel.name}"

    def reader_zone(self, message: Message) -> ZoneInfo:
        """Whose zone timestamps are shown in: the one reader of a DM or ephemeral message."""
        channel = self.emulator.state.channels.get(message.channel_id)
        reader = message.visible_to
        if reader is None and channel is not None and channel.type == ChannelType.DM:
            reader = channel.recipient_ids[0]
        person = self.community.by_id(reader) if reader is not None else None
        return person.timezone if person is not None else self.community.timezone

    # --- what the emulator tells -----------------------------------------------------------

    def _happened(self, happening: Happening) -> None:
        if happening.interaction is not None:
            if happening.kind == "interaction":
                self._interaction(happening.interaction)
            elif happening.kind == "modal":
                self._modal(happening.interaction)
            return
        message = happening.message
        if message is None:
            return
        if happening.kind == "message":
            if message.loading:  # "thinking…": shown once the answer fills it in
                self._loading.add(message.id)
            else:
                self._message("message", message)
        elif happening.kind == "edit":
            if message.id in self._loading:
                self._loading.discard(message.id)
                self._message("message", message)
            else:
                self._message("edit", message)
        elif happening.kind == "delete" and message.id not in self._loading:
            self.add("deleted", "", who=self.name_of(message.author.id), **self._where(message))
        elif happening.kind == "reaction" and happening.user is not None:
            self.add(
                "reaction",
                f"{happening.emoji} on {self.name_of(message.author.id)}'s message",
                who=self.name_of(happening.user.id),
                bot=happening.user.bot,
                **self._where(message),
            )

    def _where(self, message: Message) -> dict[str, Any]:
        channel = self.emulator.state.channels.get(message.channel_id)
        label = self.channel_label(channel) if channel is not None else "#?"
        only_for = self.name_of(message.visible_to) if message.visible_to is not None else None
        return {"channel": label, "only_for": only_for}

    def _message(self, kind: EntryKind, message: Message) -> None:
        zone, now = self.reader_zone(message), self.now()

        def read(text: str) -> str:
            return self.markup.readable(text, zone, now)

        embeds = tuple(
            EmbedText(
                title=read(embed.get("title", "")),
                description=read(embed.get("description", "")),
                fields=tuple(
                    (read(f.get("name", "")), read(f.get("value", "")))
                    for f in embed.get("fields", [])
                ),
                footer=read((embed.get("footer") or {}).get("text", "")),
            )
            for embed in message.embeds
        )
        text, components = read(message.content), tuple(_components(message))
        attachments = tuple(a.filename for a in message.attachments)
        seen = (text, embeds, components, attachments)
        if kind == "edit" and self._shown.get(message.id) == seen:
            return
        self._shown[message.id] = seen
        self.add(
            kind,
            text,
            who=self.name_of(message.author.id),
            bot=message.author.bot,
            reply=message.interaction_id is not None,
            embeds=embeds,
            components=components,
            attachments=attachments,
            **self._where(message),
        )

    def _interaction(self, record: InteractionRecord) -> None:
        state = self.emulator.state
        data = record.payload.get("data") or {}
        channel = state.channels.get(record.channel_id)
        where = {
            "who": self.name_of(record.user.id),
            "channel": self.channel_label(channel) if channel else None,
        }
        if record.type == _COMMAND and int(data.get("type", 1)) == 1:
            self.add("command", self._command_text(data), **where)
        elif record.type == _COMMAND:
            target = (data.get("resolved") or {}).get("messages", {}).get(data.get("target_id"))
            author = self.name_of(int(target["author"]["id"])) if target else "someone"
            self.add("command", f"{data.get('name')} (on {author}'s message)", **where)
        elif record.type == _COMPONENT:
            source = state.messages.get(record.source_message_id or 0)
            kind, text = _component_action(source, data)
            self.add(kind, text, **where)
        elif record.type == _MODAL_SUBMIT:
            self.add("form", self._form_text(data), **where)

    def _command_text(self, data: dict[str, Any]) -> str:
        words = [f"/{data.get('name', '?')}"]
        options = data.get("options") or []
        while options and options[0].get("type") in (_SUBCOMMAND, _GROUP):
            words.append(options[0]["name"])
            options = options[0].get("options") or []
        for option in options:
            value = option.get("value")
            kind = option.get("type")
            if kind == _CHANNEL_OPTION and str(value).isdigit():
                shown = self.markup.readable(f"<#{value}>", self.community.timezone, self.now())
            elif kind in (_USER_OPTION, _MENTIONABLE) and str(value).isdigit():
                shown = "@" + self.name_of(int(value))
            elif kind == _ROLE_OPTION and str(value).isdigit():
                role = self.community.guild.roles.get(int(value))
                shown = "@" + (role.name if role else "role")
            else:
                shown = str(value)
                if not shown or any(c.isspace() for c in shown):
                    shown = f'"{shown}"'
            words.append(f"{option['name']}:{shown}")
        return " ".join(words)

    def _form_text(self, data: dict[str, Any]) -> str:
        labels = self._modal_labels(str(data.get("custom_id")))
        values = []
        for item in _inputs(data.get("components") or []):
            label = labels.get(item.get("custom_id", ""), item.get("custom_id", "field"))
            values.append(f"{label}: {item.get('value', '')}")
        return "\n".join(values)

    def _modal_labels(self, custom_id: str) -> dict[str, str]:
        for record in reversed(list(self.emulator.state.interactions.values())):
            modal = record.modal
            if modal is not None and modal.get("custom_id") == custom_id:
                return {i["custom_id"]: _label(i) for i in _inputs(modal.get("components") or [])}
        return {}

    def _modal(self, record: InteractionRecord) -> None:
        modal = record.modal or {}
        fields = ", ".join(_label(i) for i in _inputs(modal.get("components") or []))
        self.add(
            "modal",
            f"{modal.get('title', 'A form')} ({fields})",
            who="PLN bot",
            bot=True,
            reply=True,
            only_for=self.name_of(record.user.id),
        )


def _inputs(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in components:
        if item.get("type") == 4:
            found.append(item)
        found += _inputs(item.get("components") or [])
        if isinstance(item.get("component"), dict):
            found += _inputs([item["component"]])
    return found


def _label(item: dict[str, Any]) -> str:
    return str(item.get("label") or item.get("custom_id") or "field")


def _components(message: Message) -> list[str]:
    shown = []
    for item in message.all_components():
        if item.get("type") == 2:
            emoji = (item.get("emoji") or {}).get("name")
            label = " ".join(part for part in (emoji, item.get("label")) if part)
            shown.append(f"[{label or 'button'}]" + (" (disabled)" if item.get("disabled") else ""))
        elif item.get("type") == 3:
            options = ", ".join(o.get("label", "?") for o in item.get("options") or [])
            shown.append(f"▾ {item.get('placeholder') or 'Choose'}: {options}")
    return shown


def _component_action(source: Message | None, data: dict[str, Any]) -> tuple[EntryKind, str]:
    custom_id = data.get("custom_id")
    item = next(
        (c for c in (source.all_components() if source else []) if c.get("custom_id") == custom_id),
        {},
    )
    if data.get("values") is not None:
        labels = {o.get("value"): o.get("label") for o in item.get("options") or []}
        return "select", ", ".join(str(labels.get(v, v)) for v in data["values"])
    emoji = (item.get("emoji") or {}).get("name")
    return "click", " ".join(part for part in (emoji, item.get("label")) if part) or "a button"
