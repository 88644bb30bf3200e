"""The exact permissions the bot needs, and the invite URL that asks for them."""

from __future__ import annotations

import discord

REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    manage_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    manage_channels=True,
    manage_roles=True,
    manage_events=True,
)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id,
        permissions=REQUIRED_PERMISSIONS,
        scopes=("bot", "applications.commands"),
    )
