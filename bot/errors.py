"""Errors that carry a message meant for a person, not a traceback."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration is missing or invalid; the message says what to fix."""


class StartupError(Exception):
    """The bot cannot start (database unreachable, schema ahead of the code, token rejected)."""


class UserFacingError(Exception):
    """A member's request cannot be done; the message is shown to them, ephemerally, as is."""
