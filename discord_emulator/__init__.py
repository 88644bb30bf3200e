"""A local fake of Discord (REST API v10 + Gateway v10) for end-to-end tests.

The unmodified discord.py client talks to it over HTTP and a websocket; tests drive it through
`DiscordEmulator`'s driver methods. It imports nothing from the rest of `bot/` nor discord.py.
See docs/emulator.md.
"""

from discord_emulator.errors import DiscordError, EmulatorUsageError, Violation
from discord_emulator.faults import Stall
from discord_emulator.models import (
    Attachment,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    MessageFlags,
    Role,
    ScheduledEvent,
    Upload,
    User,
)
from discord_emulator.openapi import ENV_VAR as OPENAPI_ENV_VAR
from discord_emulator.permissions import Permission
from discord_emulator.ratelimits import RateLimits, RateLimitStats, RouteLimit
from discord_emulator.server import DiscordEmulator
from discord_emulator.state import Happening, Intent, InteractionRecord, Watcher

__all__ = [
    "OPENAPI_ENV_VAR",
    "Attachment",
    "Channel",
    "ChannelType",
    "DiscordEmulator",
    "DiscordError",
    "EmulatorUsageError",
    "Guild",
    "Happening",
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
    "Stall",
    "Upload",
    "User",
    "Violation",
    "Watcher",
]
