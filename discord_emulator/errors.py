"""Errors the emulator answers with, and the record of a broken rule (a "violation")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class DiscordError(Exception):
    """An error response exactly as Discord would send it (status, JSON code and message)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: JSON | None = None,
        violation: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        # When set, the request broke one of Discord's rules: the test that caused it must fail.
        self.violation = violation

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def missing_access() -> DiscordError:
    return DiscordError(403, 50001, "Missing Access")


_UNKNOWN_CODES = {
    "channel": 10003,
    "guild": 10004,
    "member": 10007,
    "message": 10008,
    "role": 10011,
    "user": 10013,
    "emoji": 10014,
    "webhook": 10015,
    "interaction": 10062,
    "application command": 10063,
    "guild scheduled event": 10070,
}


def unknown(kind: str) -> DiscordError:
    """404 with Discord's "Unknown <kind>" code (10003 channel, 10008 message, ...)."""
    return DiscordError(404, _UNKNOWN_CODES[kind], f"Unknown {kind.title()}")


def invalid_form_body(errors: JSON, reason: str) -> DiscordError:
    """Discord's 400 50035; always a violation, because the bot sent something Discord rejects."""
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors, violation=reason)


class EmulatorUsageError(Exception):
    """A test drove the emulator in a way Discord's client could not (e.g. an unsynced command)."""


@dataclass(frozen=True)
class Violation:
    """A request the emulator does not know, or one that broke a Discord rule."""

    method: str
    path: str
    reason: str
    details: JSON = field(default_factory=dict)

    def __str__(self) -> str:
        extra = f" {self.details}" if self.details else ""
        return f"{self.method} {self.path}: {self.reason}{extra}"
