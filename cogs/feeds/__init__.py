"""/feed and /mod feed: feeds followed into topic channels and the library."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.feeds._cog import Feeds


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Feeds(bot))
