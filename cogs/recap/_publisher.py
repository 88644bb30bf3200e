"""Sending a stored recap to its channel, part by part, exactly once (see bot/recap/posting)."""

from __future__ import annotations

import logging

import discord

from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.recap.posting import post_remaining
from bot.recap.records import RecapView
from bot.recap.service import RecapService
from bot.scheduling import Outbox, Outgoing
from bot.ui.outbox import message_post
from bot.ui.permissions import missing_post_permissions
from bot.wording import plural
from cogs.recap.render import Part, jump_url, render

log = logging.getLogger(__name__)


class RecapNotPosted(UserFacingError):
    """The recap's channel is gone or closed to the bot (a scheduled run is recorded failed)."""


class RecapPublisher:
    def __init__(self, bot: PLNBot, service: RecapService, outbox: Outbox) -> None:
        self._bot = bot
        self._service = service
        self._outbox = outbox

    async def publish(self, view: RecapView) -> str:
        """Post the parts of a stored recap not yet sent; returns a note for the run record."""
        assert view.recap_id is not None and view.channel_id is not None
        recap_id = view.recap_id
        channel = self._bot.get_channel(view.channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            why = f"its channel <#{view.channel_id}> is gone"
            await self._tell_moderators(view, why)
            raise RecapNotPosted(
                f"The recap was not posted: {why}. Pick one with `/mod recap settings`."
            )
        missing = missing_post_permissions(channel)
        if missing:
            why = f"I need {', '.join(missing)} in {channel.mention}"
            await self._tell_moderators(view, why)
            raise RecapNotPosted(f"The recap was not posted: {why}.")

        def outgoing(_index: int, part: Part) -> Outgoing:
            return message_post(channel, content=part.content, embeds=part.embeds)

        ids = await post_remaining(self._outbox, self._service, view, render(view), outgoing)
        return f"posted recap #{recap_id} in {plural(len(ids), 'message')}"

    def first_link(self, view: RecapView, message_id: int) -> str | None:
        assert view.channel_id is not None
        return jump_url(view.guild_id, view.channel_id, message_id)

    async def _tell_moderators(self, view: RecapView, why: str) -> None:
        await self._bot.modlog.post(
            view.guild_id,
            f"The weekly recap could not be posted: {why}. Fix it, then use `/mod recap now`.",
        )
