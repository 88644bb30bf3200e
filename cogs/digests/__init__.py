"""/digest: a member's opt-in weekly DM of the best links in the topics they follow."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.digests._cog import DigestCog


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(DigestCog(bot))
