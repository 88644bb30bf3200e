"""/learn (the learning log) and /path (learning paths); /mod path for moderators."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.learning._cog import Learn
from cogs.learning._paths import Paths


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Learn(bot))
    await bot.add_cog(Paths(bot))
