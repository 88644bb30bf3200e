"""/recap: the weekly recap of the most-shared links."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.recap._cog import Recap


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Recap(bot))
