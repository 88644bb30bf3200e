"""The topic picker: a persistent message whose menus survive restarts (dynamic custom_ids).

Custom ids: `topics:picker:<page>` (a select of up to 25 topics; choosing toggles them),
`topics:picker:mine` (your topics, privately), `topics:browse:<page>` (a private, paginated
copy of the menus when a guild has more topics than one message holds).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.topics import rules
from bot.topics.service import TopicInfo, TopicService
from bot.ui.context import guild_of
from bot.ui.persistent import Persistent
from bot.ui.text import safe_text, shorten
from bot.wording import plural
from cogs.topics._membership import Toggled, TopicMembership

log = logging.getLogger(__name__)

MENUS_PER_MESSAGE = 4  # the fifth row holds the buttons
EMBED_LIST_LIMIT = 3500


def page_of(topics: Sequence[TopicInfo], page: int) -> list[TopicInfo]:
    return list(topics[page * rules.PAGE_SIZE : (page + 1) * rules.PAGE_SIZE])


def picker_embed(topics: Sequence[TopicInfo]) -> discord.Embed:
    embed = discord.Embed(
        title="Choose your topics",
        colour=discord.Colour.blurple(),
        description="Pick topics in a menu to follow them; pick one you follow to leave it.\n\n",
    )
    if not topics:
        embed.description = "No topics yet. Moderators create them with `/mod topic create`."
        return embed
    lines: list[str] = []
    size = 0
    for index, topic in enumerate(topics):
        line = f"{topic.emoji or '•'} **{safe_text(topic.name, 100)}**"
        if topic.description:
            line += f" — {safe_text(topic.description, 80)}"
        if size + len(line) > EMBED_LIST_LIMIT:
            lines.append(f"…and {len(topics) - index} more.")
            break
        lines.append(line)
        size += len(line) + 1
    embed.description = (embed.description or "") + "\n".join(lines)
    embed.set_footer(text=plural(len(topics), "topic"))
    return embed


def _options(topics: Sequence[TopicInfo]) -> list[discord.SelectOption]:
    options = []
    for topic in topics:
        emoji: str | discord.PartialEmoji | None = None
        if topic.emoji:
            emoji = discord.PartialEmoji.from_str(topic.emoji)
        options.append(
            discord.SelectOption(
                label=shorten(topic.name, 100),
                value=str(topic.id),
                description=shorten(topic.description, 100) or None,
                emoji=emoji,
            )
        )
    return options


def _placeholder(chunk: Sequence[TopicInfo], page: int, pages: int) -> str:
    first, last = chunk[0].name[:30], chunk[-1].name[:30]
    suffix = f" ({page + 1}/{pages})" if pages > 1 else ""
    return shorten(f"Topics {first} – {last}{suffix}", 150)


class PickerItems:
    """The picker's dynamic item classes, bound to the membership logic of one bot."""

    def __init__(self, service: TopicService, membership: TopicMembership) -> None:
        self.service = service
        self.membership = membership
        self.select_cls, self.mine_cls, self.browse_cls = _item_classes(self)

    @property
    def classes(self) -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
        return (self.select_cls, self.mine_cls, self.browse_cls)

    def select(self, topics: Sequence[TopicInfo], page: int, pages: int) -> discord.ui.Item[Any]:
        chunk = page_of(topics, page)
        return self.select_cls(page, _options(chunk), _placeholder(chunk, page, pages))

    def message_view(self, topics: Sequence[TopicInfo]) -> discord.ui.View:
        """The public picker: up to four menus, then My topics and Browse all."""
        view = discord.ui.View(timeout=None)
        pages = rules.pages(len(topics)) if topics else 0
        for page in range(min(pages, MENUS_PER_MESSAGE)):
            view.add_item(self.select(topics, page, pages))
        view.add_item(self.mine_cls())
        if pages > MENUS_PER_MESSAGE:
            view.add_item(self.browse_cls(0, label="Browse all topics"))
        return view

    def browse_view(self, topics: Sequence[TopicInfo], page: int) -> discord.ui.View:
        """A private page: one menu plus Previous / Next."""
        view = discord.ui.View(timeout=None)
        pages = rules.pages(len(topics))
        page = max(0, min(page, pages - 1))
        if topics:
            view.add_item(self.select(topics, page, pages))
        if page > 0:
            view.add_item(self.browse_cls(page - 1, label="Previous"))
        if page < pages - 1:
            view.add_item(self.browse_cls(page + 1, label="Next"))
        return view

    async def choose(self, interaction: discord.Interaction[Any], values: list[str]) -> None:
        member = interaction.user
        if not isinstance(member, discord.Member):
            raise UserFacingError("The picker works inside a server.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.membership.toggle(member, [int(v) for v in values if v.isdigit()])
        await interaction.followup.send(describe(result), ephemeral=True)

    async def mine(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = guild_of(interaction).id
        topics = await self.service.followed_by(guild_id, interaction.user.id)
        # Where the member stands on the paths they started (the learning log's levels).
        levels = await interaction.client.services.paths.levels(guild_id, interaction.user.id)
        text = (
            "You follow: " + ", ".join(f"**{safe_text(t.name, 100)}**" for t in topics)
            if topics
            else "You don't follow any topic yet: pick some in the menus."
        )
        if levels:
            text += "\nYour paths: " + ", ".join(
                f"**{safe_text(lv.topic_name, 100)}** {lv.label}" for lv in levels
            )
        await interaction.response.send_message(shorten(text, 2000), ephemeral=True)

    async def browse(self, interaction: discord.Interaction[Any], page: int) -> None:
        guild_id = guild_of(interaction).id
        topics = await self.service.active_topics(guild_id)
        view = self.browse_view(topics, page)
        message = interaction.message
        if message is not None and message.flags.ephemeral:
            await interaction.response.edit_message(view=view)
        else:
            await interaction.response.send_message(view=view, ephemeral=True)


def describe(result: Toggled) -> str:
    parts = []
    if result.joined:
        parts.append("Joined " + ", ".join(f"**{safe_text(n, 100)}**" for n in result.joined))
    if result.left:
        parts.append("Left " + ", ".join(f"**{safe_text(n, 100)}**" for n in result.left))
    if result.refused:
        parts.append(
            "Not available right now: " + ", ".join(safe_text(n, 100) for n in result.refused)
        )
    return shorten(". ".join(parts) + "." if parts else "Nothing changed.", 2000)


def _item_classes(
    items: PickerItems,
) -> tuple[type[_PickerSelect], type[_MineButton], type[_BrowseButton]]:
    class PickerSelect(_PickerSelect, template=r"topics:picker:(?P<page>[0-9]{1,3})"):
        ITEMS = items

    class MineButton(_MineButton, template=r"topics:picker:mine"):
        ITEMS = items

    class BrowseButton(_BrowseButton, template=r"topics:browse:(?P<page>[0-9]{1,3})"):
        ITEMS = items

    return PickerSelect, MineButton, BrowseButton


class _PickerSelect(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"topics:picker:never-registered",
):
    ITEMS: PickerItems
    where = "mod topic picker"

    def __init__(
        self, page: int, options: list[discord.SelectOption] | None = None, placeholder: str = ""
    ) -> None:
        options = options or []
        super().__init__(
            discord.ui.Select(
                custom_id=f"topics:picker:{page}",
                options=options,
                placeholder=placeholder or None,
                min_values=1,
                max_values=max(1, len(options)),
            ),
            row=page % MENUS_PER_MESSAGE,
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> _PickerSelect:
        return cls(int(match["page"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        await self.ITEMS.choose(interaction, list(self.item.values))


class _MineButton(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"topics:mine:never-registered",
):
    ITEMS: PickerItems
    where = "topic picker (mine)"

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="My topics",
                style=discord.ButtonStyle.secondary,
                custom_id="topics:picker:mine",
            ),
            row=MENUS_PER_MESSAGE,
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> _MineButton:
        return cls()

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        await self.ITEMS.mine(interaction)


class _BrowseButton(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"topics:browse:never-registered",
):
    ITEMS: PickerItems
    where = "topic picker (browse)"

    def __init__(self, page: int, *, label: str = "Browse") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"topics:browse:{page}"
            ),
            row=MENUS_PER_MESSAGE,
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> _BrowseButton:
        return cls(int(match["page"]))

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        await self.ITEMS.browse(interaction, self.page)


async def refresh_pickers(guild: discord.Guild, service: TopicService, items: PickerItems) -> int:
    """Re-render every picker in the guild: one edit per picker message."""
    pickers = await service.pickers(guild.id)
    if not pickers:
        return 0
    topics = await service.active_topics(guild.id)
    embed = picker_embed(topics)
    updated = 0
    for channel_id, message_id in pickers:
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            await service.remove_picker(guild.id, message_id)
            continue
        try:
            await channel.get_partial_message(message_id).edit(
                embed=embed, view=items.message_view(topics)
            )
            updated += 1
        except discord.NotFound:
            await service.remove_picker(guild.id, message_id)
        except discord.HTTPException:
            log.warning("Could not update picker %s in guild %s", message_id, guild.id)
    return updated
