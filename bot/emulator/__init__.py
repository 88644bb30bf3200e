"""A local fake of Discord (REST API v10 + Gateway v10) for end-to-end tests.

The unmodified discord.py client talks to it over HTTP and a websocket; tests drive it through
`DiscordEmulator`'s driver methods. It imports nothing from the rest of `bot/` nor discord.py.
See docs/emulator.md.
"""

from bot.emulator.errors import DiscordError, EmulatorUsageError, Violation
from bot.emulator.models import (
    Attachment,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    MessageFlags,
    Role,
    ScheduledEvent,
    User,
)
from bot.emulator.openapi import ENV_VAR as OPENAPI_ENV_VAR
from bot.emulator.permissions import Permission
from bot.emulator.ratelimits import RateLimits, RateLimitStats, RouteLimit
from bot.emulator.server import DiscordEmulator
from bot.emulator.state import Intent, InteractionRecord

__all__ = [
    "OPENAPI_ENV_VAR",
    "Attachment",
    "Channel",
    "ChannelType",
    "DiscordEmulator",
    "DiscordError",
    "EmulatorUsageError",
    "Guild",
    "Intent",
    "InteractionRecord",
    "Member",
    "Message",
    "MessageFlags",
    "Permission",
    "RateLimitStats",
    "RateLimits",
    "Role",
    "RouteLimit",
    "ScheduledEvent",
    "User",
    "Violation",
]
