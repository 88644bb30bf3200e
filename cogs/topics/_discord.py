"""The Discord side of topics: channels, roles, overwrites, categories, and rolling back."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import discord

from bot.errors import UserFacingError
from bot.topics import rules
from bot.topics.service import NewTopic, TopicGuildSettings, TopicInfo

log = logging.getLogger(__name__)

CATEGORY_CHANNEL_LIMIT = 50  # Discord: channels in one category

TopicChannel = discord.TextChannel | discord.ForumChannel
Overwrites = dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]

_PERMISSION_LABELS = {
    "manage_channels": "Manage Channels",
    "manage_roles": "Manage Roles",
}


def require_bot_permissions(guild: discord.Guild, *flags: str) -> None:
    """Refuse early, naming the permission, when the bot lacks it server-wide."""
    permissions = guild.me.guild_permissions
    missing = [_PERMISSION_LABELS.get(f, f) for f in flags if not getattr(permissions, f)]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise UserFacingError(
            f"I need the {' and '.join(missing)} permission{plural} for topics. A server admin "
            f"can grant it to my role ({guild.me.top_role.name}) in Server Settings → Roles. "
            "Nothing was changed."
        )


def require_role_below_bot(guild: discord.Guild, role: discord.Role) -> None:
    """Discord lets a bot manage only roles below its highest role."""
    top = guild.me.top_role
    if role >= top:
        raise UserFacingError(
            f"The topic role “{role.name}” is above my highest role “{top.name}”, so I can't "
            f"manage it. In Server Settings → Roles, drag “{top.name}” above “{role.name}”, "
            "then try again."
        )


def permission_error(action: str) -> UserFacingError:
    return UserFacingError(
        f"Discord refused to let me {action}: I need Manage Channels and Manage Roles, and the "
        "topic roles must be below my highest role (Server Settings → Roles). Nothing was kept."
    )


def topic_overwrites(
    guild: discord.Guild,
    *,
    role: discord.Role | None,
    visibility: str,
    archived: bool,
    moderator_role_id: int | None,
) -> Overwrites:
    """Opt-in: only followers, moderators and the bot see the channel. Archived: read-only."""
    overwrites: Overwrites = {}
    everyone = discord.PermissionOverwrite()
    opt_in = visibility == "opt-in"
    if opt_in:
        everyone.update(view_channel=False)
    if archived:
        everyone.update(
            send_messages=False,
            send_messages_in_threads=False,
            create_public_threads=False,
            create_private_threads=False,
        )
    if not everyone.is_empty():
        overwrites[guild.default_role] = everyone
    if opt_in and role is not None:
        overwrites[role] = discord.PermissionOverwrite(view_channel=True)
    moderators = guild.get_role(moderator_role_id) if moderator_role_id else None
    if opt_in and moderators is not None and not moderators.is_default():
        overwrites[moderators] = discord.PermissionOverwrite(view_channel=True)
    overwrites[guild.me] = discord.PermissionOverwrite(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        read_message_history=True,
    )
    return overwrites


@dataclass
class Created:
    """What one operation created on Discord, so a failure can remove exactly that."""

    objects: list[discord.abc.GuildChannel | discord.Role] = field(default_factory=list)

    async def roll_back(self, reason: str) -> None:
        for obj in reversed(self.objects):
            try:
                await obj.delete(reason=reason)
            except discord.NotFound:
                pass
            except discord.HTTPException:
                log.exception("Could not roll back %r", obj)
        self.objects.clear()


async def ensure_category(
    guild: discord.Guild, name: str, created: Created, *, reason: str
) -> discord.CategoryChannel:
    """A category with this name and room for a channel, created (and tracked) when needed."""
    for category in guild.categories:
        if (
            category.name.casefold() == name.casefold()
            and len(category.channels) < CATEGORY_CHANNEL_LIMIT
        ):
            return category
    category = await guild.create_category(name, reason=reason)
    created.objects.append(category)
    return category


def channel_of(guild: discord.Guild, topic: TopicInfo) -> TopicChannel | None:
    channel = guild.get_channel(topic.channel_id) if topic.channel_id else None
    return channel if isinstance(channel, discord.TextChannel | discord.ForumChannel) else None


def role_of(guild: discord.Guild, topic: TopicInfo) -> discord.Role | None:
    return guild.get_role(topic.role_id) if topic.role_id else None


def needs_category(guild: discord.Guild, name: str) -> bool:
    return not any(
        c.name.casefold() == name.casefold() and len(c.channels) < CATEGORY_CHANNEL_LIMIT
        for c in guild.categories
    )


async def create_pieces(
    guild: discord.Guild,
    new: NewTopic,
    settings: TopicGuildSettings,
    moderator_role_id: int | None,
    *,
    reason: str,
) -> tuple[TopicChannel, discord.Role, Created]:
    """Create the role, then the channel; on any failure, delete what was made and explain."""
    require_bot_permissions(guild, "manage_channels", "manage_roles")
    extra_category = 1 if needs_category(guild, settings.category_name) else 0
    rules.check_caps(
        channels=len(guild.channels), roles=len(guild.roles), new_channels=1 + extra_category
    )
    created = Created()
    try:
        role = await guild.create_role(name=new.name, mentionable=False, reason=reason)
        created.objects.append(role)
        category = await ensure_category(guild, settings.category_name, created, reason=reason)
        channel = await make_channel(
            guild,
            name=new.channel_name,
            kind=new.kind,
            description=new.description,
            category=category,
            overwrites=topic_overwrites(
                guild,
                role=role,
                visibility=settings.visibility,
                archived=False,
                moderator_role_id=moderator_role_id,
            ),
            reason=reason,
        )
        created.objects.append(channel)
    except discord.Forbidden as error:
        await created.roll_back("topic creation failed")
        raise permission_error("create the topic's role and channel") from error
    except discord.HTTPException as error:
        await created.roll_back("topic creation failed")
        raise UserFacingError(
            f"Discord refused to create the topic ({error.status}: {error.text[:200]}). "
            "Nothing was kept."
        ) from error
    except BaseException:
        await created.roll_back("topic creation failed")
        raise
    return channel, role, created


async def make_channel(
    guild: discord.Guild,
    *,
    name: str,
    kind: str,
    description: str,
    category: discord.CategoryChannel,
    overwrites: Overwrites,
    reason: str,
) -> TopicChannel:
    if kind == "forum":
        return await guild.create_forum(
            name,
            category=category,
            topic=description or discord.utils.MISSING,
            overwrites=overwrites,
            reason=reason,
        )
    return await guild.create_text_channel(
        name,
        category=category,
        topic=description or discord.utils.MISSING,
        overwrites=overwrites,
        reason=reason,
    )


async def place_channel(
    guild: discord.Guild,
    topic: TopicInfo,
    settings: TopicGuildSettings,
    moderator_role_id: int | None,
    *,
    archived: bool,
    reason: str,
) -> None:
    """Move a topic's channel to the topics or archive category with matching overwrites.

    One request per topic: the role stays, so no member is edited.
    """
    channel = channel_of(guild, topic)
    if channel is None:
        return
    require_bot_permissions(guild, "manage_channels", "manage_roles")
    created = Created()
    name = settings.archive_category_name if archived else settings.category_name
    try:
        category = channel.category
        if category is None or category.name.casefold() != name.casefold():
            category = await ensure_category(guild, name, created, reason=reason)
        await channel.edit(
            category=category,
            sync_permissions=False,
            overwrites=topic_overwrites(
                guild,
                role=role_of(guild, topic),
                visibility=settings.visibility,
                archived=archived,
                moderator_role_id=moderator_role_id,
            ),
            reason=reason,
        )
    except discord.Forbidden as error:
        await created.roll_back("moving the topic failed")
        raise permission_error("move the topic's channel") from error


async def apply_overwrites(
    guild: discord.Guild,
    topics: Iterable[TopicInfo],
    settings: TopicGuildSettings,
    moderator_role_id: int | None,
    *,
    reason: str,
) -> int:
    """Re-apply overwrites after a visibility change: one request per topic channel."""
    changed = 0
    for topic in topics:
        channel = channel_of(guild, topic)
        if channel is None:
            continue
        try:
            await channel.edit(
                overwrites=topic_overwrites(
                    guild,
                    role=role_of(guild, topic),
                    visibility=settings.visibility,
                    archived=topic.archived,
                    moderator_role_id=moderator_role_id,
                ),
                reason=reason,
            )
        except discord.Forbidden as error:
            raise permission_error(f"change #{channel.name}'s permissions") from error
        changed += 1
    return changed


async def rename_pieces(guild: discord.Guild, topic: TopicInfo, *, reason: str) -> None:
    """Bring the channel name, channel topic and role name in line with the topic."""
    channel = channel_of(guild, topic)
    role = role_of(guild, topic)
    try:
        if channel is not None and (
            channel.name != topic.channel_name or (channel.topic or "") != topic.description
        ):
            await channel.edit(
                name=topic.channel_name, topic=topic.description or "", reason=reason
            )
        if role is not None and role.name != topic.name:
            require_role_below_bot(guild, role)
            await role.edit(name=topic.name, reason=reason)
    except discord.Forbidden as error:
        raise permission_error("rename the topic's channel or role") from error
