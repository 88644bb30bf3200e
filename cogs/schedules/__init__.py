"""/schedule: every schedule of the server, paused, resumed and previewed."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.schedules._cog import Schedules


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Schedules(bot))
