"""Discord's documented limits, checked on everything the bot sends.

Each check collects problems with the field path where Discord would report them; a request with
problems is answered with 400 50035 "Invalid Form Body" and recorded as a violation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from discord_emulator.errors import JSON, DiscordError, invalid_form_body

COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_GLOBAL_COMMANDS = 100
MAX_OPTIONS = 25

EMBED_LIMITS = {"title": 256, "description": 4096}
EMBED_TOTAL = 6000
MAX_EMBEDS = 10
MAX_FIELDS = 25

MAX_NONCE = 25
MAX_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
MAX_SELECT_OPTIONS = 25

# Option types: 1 subcommand, 2 subcommand group, 3 string ... 11 attachment.
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
_VALUE_TYPES = {3: str, 4: int, 5: bool, 6: str, 7: str, 8: str, 9: str, 10: float, 11: str}


@dataclass
class Problems:
    """Collects errors, rendering them the way Discord nests them under `errors`."""

    items: list[tuple[tuple[str | int, ...], str]] = field(default_factory=list)

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        self.items.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def errors(self) -> JSON:
        root: JSON = {}
        for path, message in self.items:
            node = root
            for part in path:
                node = node.setdefault(str(part), {})
            node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": message})
        return root

    def reason(self) -> str:
        return "; ".join(f"{'.'.join(map(str, p)) or '(body)'}: {m}" for p, m in self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise invalid_form_body(self.errors(), self.reason())


def form_error(path: tuple[str | int, ...], message: str) -> DiscordError:
    problems = Problems()
    problems.add(path, message)
    return invalid_form_body(problems.errors(), problems.reason())


def _length(problems: Problems, path: tuple[str | int, ...], value: Any, lo: int, hi: int) -> None:
    if not isinstance(value, str) or not lo <= len(value) <= hi:
        got = len(value) if isinstance(value, str) else type(value).__name__
        problems.add(path, f"must be {lo}-{hi} characters long (got {got})")


# --- application commands ---------------------------------------------------------------------


def check_command_tree(commands: list[JSON], *, is_global: bool) -> Problems:
    problems = Problems()
    if is_global and len(commands) > MAX_GLOBAL_COMMANDS:
        problems.add((), f"at most {MAX_GLOBAL_COMMANDS} global commands (got {len(commands)})")
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        kind = int(command.get("type", 1))
        name = command.get("name")
        key = (kind, str(name))
        if key in seen:
            problems.add((i, "name"), f"duplicate command name {name!r}")
        seen.add(key)
        if kind == 1:
            _check_chat_input(problems, (i,), command)
        else:
            _length(problems, (i, "name"), name, 1, 32)
            if command.get("description"):
                problems.add((i, "description"), "context menu commands take no description")
    return problems


def _check_name_and_description(
    problems: Problems, path: tuple[str | int, ...], item: JSON
) -> None:
    name = item.get("name")
    if not isinstance(name, str) or not COMMAND_NAME.match(name) or name != name.lower():
        problems.add((*path, "name"), f"invalid name {name!r}: lower case, ^[-_\\w]{{1,32}}$")
    _length(problems, (*path, "description"), item.get("description"), 1, 100)


def _check_chat_input(problems: Problems, path: tuple[str | int, ...], command: JSON) -> None:
    _check_name_and_description(problems, path, command)
    _check_options(problems, path, command.get("options") or [], depth=0)


def _check_options(
    problems: Problems, path: tuple[str | int, ...], options: list[JSON], *, depth: int
) -> None:
    if len(options) > MAX_OPTIONS:
        problems.add((*path, "options"), f"at most {MAX_OPTIONS} options (got {len(options)})")
    seen_optional = False
    names: set[str] = set()
    kinds = {int(o.get("type", 0)) for o in options}
    if kinds & {SUB_COMMAND, SUB_COMMAND_GROUP} and kinds - {SUB_COMMAND, SUB_COMMAND_GROUP}:
        problems.add((*path, "options"), "subcommands cannot be mixed with other options")
    for i, option in enumerate(options):
        opath = (*path, "options", i)
        _check_name_and_description(problems, opath, option)
        if option.get("name") in names:
            problems.add((*opath, "name"), f"duplicate option name {option.get('name')!r}")
        names.add(str(option.get("name")))
        kind = int(option.get("type", 0))
        if kind == SUB_COMMAND_GROUP:
            if depth > 0:
                problems.add(opath, "subcommand groups cannot be nested")
            _check_options(problems, opath, option.get("options") or [], depth=depth + 1)
        elif kind == SUB_COMMAND:
            if depth > 1:
                problems.add(opath, "subcommands nest at most two levels")
            _check_options(problems, opath, option.get("options") or [], depth=depth + 1)
        elif kind in _VALUE_TYPES:
            if option.get("required"):
                if seen_optional:
                    problems.add(opath, "required options must come before optional ones")
            else:
                seen_optional = True
            choices = option.get("choices") or []
            if len(choices) > MAX_OPTIONS:
                problems.add((*opath, "choices"), f"at most {MAX_OPTIONS} choices")
            if choices and option.get("autocomplete"):
                problems.add(opath, "autocomplete cannot be combined with choices")
            for j, choice in enumerate(choices):
                _length(problems, (*opath, "choices", j, "name"), choice.get("name"), 1, 100)
        else:
            problems.add((*opath, "type"), f"unknown option type {kind}")


# --- messages ----------------------------------------------------------------------------------


def check_message(body: JSON, *, has_files: bool, is_edit: bool = False) -> Problems:
    problems = Problems()
    content = body.get("content")
    embeds = body.get("embeds") or []
    components = body.get("components") or []
    if content is not None and (not isinstance(content, str) or len(content) > 2000):
        problems.add(("content",), "must be 2000 or fewer in length")
    has_body = bool(content) or embeds or components or has_files or body.get("poll")
    if not is_edit and not has_body and not body.get("sticker_ids"):
        problems.add(("content",), "Cannot send an empty message")
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > MAX_NONCE:
        problems.add(("nonce",), f"must be {MAX_NONCE} or fewer in length")
    check_embeds(problems, embeds)
    check_components(problems, components, in_modal=False)
    return problems


def check_embeds(problems: Problems, embeds: list[JSON]) -> None:
    if len(embeds) > MAX_EMBEDS:
        problems.add(("embeds",), f"at most {MAX_EMBEDS} embeds (got {len(embeds)})")
    total = 0
    for i, embed in enumerate(embeds):
        path: tuple[str | int, ...] = ("embeds", i)
        for key, limit in EMBED_LIMITS.items():
            value = embed.get(key)
            if value is not None:
                total += len(str(value))
                if len(str(value)) > limit:
                    problems.add((*path, key), f"must be {limit} or fewer in length")
        fields = embed.get("fields") or []
        if len(fields) > MAX_FIELDS:
            problems.add((*path, "fields"), f"at most {MAX_FIELDS} fields")
        for j, fld in enumerate(fields):
            name, value = str(fld.get("name", "")), str(fld.get("value", ""))
            total += len(name) + len(value)
            if not 1 <= len(name) <= 256:
                problems.add((*path, "fields", j, "name"), "must be 1-256 in length")
            if not 1 <= len(value) <= 1024:
                problems.add((*path, "fields", j, "value"), "must be 1-1024 in length")
        footer = (embed.get("footer") or {}).get("text")
        if footer is not None:
            total += len(footer)
            if len(footer) > 2048:
                problems.add((*path, "footer", "text"), "must be 2048 or fewer in length")
        author = (embed.get("author") or {}).get("name")
        if author is not None:
            total += len(author)
            if len(author) > 256:
                problems.add((*path, "author", "name"), "must be 256 or fewer in length")
    if total > EMBED_TOTAL:
        problems.add(("embeds",), f"embeds total {total} characters; the limit is {EMBED_TOTAL}")


def check_components(problems: Problems, components: list[JSON], *, in_modal: bool) -> None:
    if len(components) > MAX_ROWS and not in_modal:
        problems.add(("components",), f"at most {MAX_ROWS} action rows (got {len(components)})")
    for i, row in enumerate(components):
        path: tuple[str | int, ...] = ("components", i)
        if row.get("type") == 1:
            children = row.get("components") or []
            buttons = [c for c in children if c.get("type") == 2]
            selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
            if len(buttons) > MAX_BUTTONS_PER_ROW:
                problems.add((*path, "components"), f"at most {MAX_BUTTONS_PER_ROW} buttons a row")
            if selects and len(children) > 1:
                problems.add((*path, "components"), "a select menu must be alone in its row")
            for j, child in enumerate(children):
                _check_component(problems, (*path, "components", j), child)
        elif row.get("type") == 18 and isinstance(row.get("component"), dict):
            _check_component(problems, (*path, "component"), row["component"])
        elif not in_modal and row.get("type") not in (9, 10, 12, 13, 14, 17):
            problems.add((*path, "type"), "top-level components must be action rows")


def _check_component(problems: Problems, path: tuple[str | int, ...], component: JSON) -> None:
    custom_id = component.get("custom_id")
    is_link = component.get("type") == 2 and component.get("style") in (5, 6)
    if not is_link:
        _length(problems, (*path, "custom_id"), custom_id, 1, 100)
    label = component.get("label")
    if label is not None and len(str(label)) > 80:
        problems.add((*path, "label"), "must be 80 or fewer in length")
    if component.get("type") == 3:
        options = component.get("options") or []
        if not 1 <= len(options) <= MAX_SELECT_OPTIONS:
            problems.add((*path, "options"), f"select menus take 1-{MAX_SELECT_OPTIONS} options")
        for k, option in enumerate(options):
            _length(problems, (*path, "options", k, "label"), option.get("label"), 1, 100)
            _length(problems, (*path, "options", k, "value"), option.get("value"), 1, 100)


def check_modal(body: JSON) -> Problems:
    problems = Problems()
    _length(problems, ("custom_id",), body.get("custom_id"), 1, 100)
    _length(problems, ("title",), body.get("title"), 1, 45)
    components = body.get("components") or []
    if not 1 <= len(components) <= 5:
        problems.add(("components",), "a modal takes 1-5 components")
    check_components(problems, components, in_modal=True)
    return problems


def check_autocomplete(body: JSON) -> Problems:
    problems = Problems()
    choices = body.get("choices") or []
    if len(choices) > MAX_OPTIONS:
        problems.add(("choices",), f"at most {MAX_OPTIONS} choices (got {len(choices)})")
    for i, choice in enumerate(choices):
        _length(problems, ("choices", i, "name"), choice.get("name"), 1, 100)
    return problems


# --- mentions ----------------------------------------------------------------------------------

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)")


@dataclass(frozen=True)
class Pings:
    users: list[int]
    roles: list[int]
    everyone: bool


def compute_pings(
    content: str,
    allowed_mentions: JSON | None,
    *,
    mentionable_roles: set[int],
    can_mention_everyone: bool,
    replied_author: int | None = None,
) -> Pings:
    """Who a message really pings. Absent allowed_mentions means "parse everything" (Discord's
    default); roles ping only when mentionable or the author has MENTION_EVERYONE."""
    users = [int(u) for u in _USER_MENTION.findall(content)]
    roles = [int(r) for r in _ROLE_MENTION.findall(content)]
    everyone = bool(_EVERYONE.search(content))
    if allowed_mentions is not None:
        parse = set(allowed_mentions.get("parse") or [])
        listed_users = {int(u) for u in allowed_mentions.get("users") or []}
        listed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
        users = [u for u in users if "users" in parse or u in listed_users]
        roles = [r for r in roles if "roles" in parse or r in listed_roles]
        everyone = everyone and "everyone" in parse
        if replied_author is not None and allowed_mentions.get("replied_user", False):
            users.append(replied_author)
    elif replied_author is not None:
        users.append(replied_author)
    roles = [r for r in roles if r in mentionable_roles or can_mention_everyone]
    return Pings(
        users=list(dict.fromkeys(users)),
        roles=list(dict.fromkeys(roles)),
        everyone=everyone and can_mention_everyone,
    )
