"""/ask, /questions, /solved, /thanks, the "Mark as solution" menu and 🙏 reactions.

The asker or a moderator marks the solution; the rules (who may, what counts, the daily limits)
live in bot/questions, checked there on every path.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator
from bot.core import PLNBot
from bot.errors import UserFacingError
from bot.questions.contributions import HELPERS_KIND
from bot.questions.records import ListedState
from bot.questions.rules import question_details, question_title
from bot.questions.service import CHECK_KIND, NOT_A_QUESTION
from bot.topics.records import TopicInfo
from bot.ui.autocomplete import topic_names
from bot.ui.context import guild_of, member_of
from bot.ui.paginator import Paginator
from bot.ui.permissions import require_can_post
from cogs.questions._mod import QuestionModeration
from cogs.questions._render import guide_text, question_pages, question_text, thread_name
from cogs.questions._solving import OPEN_TAG, forum_tags, show_solved
from cogs.questions._steps import Steps
from cogs.questions._views import SolvedButton, StillOpenButton

log = logging.getLogger(__name__)
THANKS_EMOJI = "🙏"
CHECK_GRACE = timedelta(days=7)
# A week: Discord's own archiving (which the bot follows as closing) comes after the bot's
# 3-day question to the asker; the bot closes solved threads itself.
ARCHIVE_AFTER_MINUTES: Literal[10080] = 10080
QuestionChannel = discord.TextChannel | discord.ForumChannel


@app_commands.guild_only()
class Questions(commands.Cog):
    def __init__(self, bot: PLNBot) -> None:
        self.bot = bot
        self.questions = bot.services.questions
        self.contributions = bot.services.contributions
        self.topics = bot.services.topics
        self.steps = Steps(bot)
        self.moderation = QuestionModeration(self.contributions, self.steps)
        self.solution_menu = app_commands.ContextMenu(
            name="Mark as solution", callback=self.mark_as_solution
        )
        self.solution_menu.guild_only = True

    async def cog_load(self) -> None:
        registry = self.bot.services.scheduling.registry
        # Posts go through the question's outbox scope: a step resumed after a crash posts once.
        registry.register(
            CHECK_KIND,
            self.steps.check,
            grace=CHECK_GRACE,
            resume_after_crash=True,
            report_missed=False,
            listed=False,
        )
        registry.register(
            HELPERS_KIND,
            self.steps.refresh_helpers,
            grace=timedelta(days=1),
            report_missed=False,
            listed=False,
        )
        self.bot.add_dynamic_items(SolvedButton, StillOpenButton)
        self.bot.tree.add_command(self.solution_menu)
        self.bot.moderation.add_command(self.moderation)

    async def cog_unload(self) -> None:
        self.bot.moderation.remove_command(self.moderation.name)
        self.bot.tree.remove_command(self.solution_menu.name, type=self.solution_menu.type)
        self.bot.remove_dynamic_items(SolvedButton, StillOpenButton)
        for kind in (CHECK_KIND, HELPERS_KIND):
            self.bot.services.scheduling.registry.unregister(kind)

    # --- asking --------------------------------------------------------------------------

    @app_commands.command(
        name="ask", description="Ask the network a question (a thread for answers)"
    )
    @app_commands.guild_only()
    @app_commands.describe(
        question="Your question, in one line (under 300 characters)",
        topic="The topic to ask in (default: this channel)",
        details="What you tried, links, context (2000 characters at most)",
    )
    @app_commands.autocomplete(topic=topic_names)
    async def ask(
        self,
        interaction: discord.Interaction[PLNBot],
        question: str,
        topic: str | None = None,
        details: str | None = None,
    ) -> None:
        title, text = question_title(question), question_details(details)
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chosen = await self.topics.require_if_named(guild.id, topic)
        channel = self._channel(guild, chosen, interaction.channel)
        if chosen is None:
            chosen = await self.topics.by_channel(guild.id, channel.id)
        require_can_post(channel)
        asker = member_of(interaction)
        if not channel.permissions_for(asker).view_channel:
            raise UserFacingError(
                f"You cannot see {channel.mention} yet, so you would miss the answers: join the "
                "topic first (`/topic join`)."
            )
        if isinstance(channel, discord.ForumChannel):
            tags = await forum_tags(channel)
            post = await channel.create_thread(
                name=thread_name(title),
                content=question_text(asker, title, text),
                applied_tags=[tags[OPEN_TAG]] if OPEN_TAG in tags else [],
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            thread, message_id = post.thread, post.message.id
        else:
            message = await channel.send(
                question_text(asker, title, text), allowed_mentions=discord.AllowedMentions.none()
            )
            thread = await message.create_thread(
                name=thread_name(title), auto_archive_duration=ARCHIVE_AFTER_MINUTES
            )
            message_id = message.id
        await thread.send(guide_text(asker), allowed_mentions=discord.AllowedMentions.none())
        with contextlib.suppress(discord.HTTPException):
            await thread.add_user(asker)
        await self.questions.ask(
            guild.id,
            guild.name,
            asker.id,
            title=title,
            details=text,
            topic_id=chosen.id if chosen else None,
            channel_id=channel.id,
            thread_id=thread.id,
            message_id=message_id,
        )
        await interaction.followup.send(
            f"Your question is up: {thread.mention}. You will see the answers there.",
            ephemeral=True,
        )

    def _channel(
        self,
        guild: discord.Guild,
        topic: TopicInfo | None,
        here: discord.abc.GuildChannel | discord.Thread | discord.abc.PrivateChannel | None,
    ) -> QuestionChannel:
        if topic is not None:
            if topic.archived or topic.broken_reason:
                raise UserFacingError(
                    f"“{topic.name}” takes no questions now (it is {topic.state})."
                )
            channel = guild.get_channel(topic.channel_id or 0)
            if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
                raise UserFacingError(f"“{topic.name}” has no channel to ask in.")
            return channel
        if isinstance(here, discord.TextChannel):
            return here
        raise UserFacingError(
            "Ask in a text channel, or name a `topic`: questions get a thread of their own."
        )

    @app_commands.command(name="questions", description="Questions asked here, newest first")
    @app_commands.guild_only()
    @app_commands.describe(topic="Only this topic's questions", state="Which questions")
    @app_commands.autocomplete(topic=topic_names)
    async def list_questions(
        self,
        interaction: discord.Interaction[PLNBot],
        topic: str | None = None,
        state: Literal["open", "unanswered", "solved", "all"] = "all",
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chosen = await self.topics.require_if_named(guild.id, topic)
        listed: ListedState = state
        found = await self.questions.listing(
            guild.id, topic_id=chosen.id if chosen else None, state=listed
        )
        title = "Questions" if state == "all" else f"{state.capitalize()} questions"
        if chosen is not None:
            title += f" in {chosen.name}"
        pages = question_pages(found, guild.id, title)
        view = Paginator(interaction.user.id, pages)
        view.message = await interaction.followup.send(
            embed=pages[0], view=view, ephemeral=True, wait=True
        )

    # --- the solution --------------------------------------------------------------------

    async def mark_as_solution(
        self, interaction: discord.Interaction[PLNBot], message: discord.Message
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._solve(interaction, guild, message.author, message)

    @app_commands.command(name="solved", description="In a question's thread: mark it solved")
    @app_commands.guild_only()
    @app_commands.describe(by="Whose answer solved it (their latest message here is quoted)")
    async def solved(
        self, interaction: discord.Interaction[PLNBot], by: discord.Member | None = None
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        thread = interaction.channel
        if not isinstance(thread, discord.Thread):
            raise UserFacingError(NOT_A_QUESTION)
        await self.questions.require_in_thread(guild.id, thread.id)
        answer = None
        if by is not None:
            async for message in thread.history(limit=200):
                if message.author.id == by.id:
                    answer = message
                    break
            if answer is None:
                raise UserFacingError(f"{by.display_name} has not written in this thread.")
        await self._solve(interaction, guild, by, answer)

    async def _solve(
        self,
        interaction: discord.Interaction[PLNBot],
        guild: discord.Guild,
        solver: discord.abc.User | None,
        answer: discord.Message | None,
    ) -> None:
        solved = await self.questions.solve(
            guild.id,
            interaction.channel_id,
            interaction.user.id,
            actor_is_moderator=await is_moderator(interaction),
            solver_id=solver.id if solver else None,
            solver_is_bot=bool(solver and solver.bot),
            solution_message_id=answer.id if answer else None,
            excerpt=answer.content if answer else "",
        )
        thread = interaction.channel
        if isinstance(thread, discord.Thread):
            await show_solved(self.bot, guild, thread, solved, interaction.user.id)
        if solved.credited and solver is not None:
            await self.steps.sync_helpers(guild, only=[solver.id])
        who = f" by {solver.mention}" if solver is not None else ""
        await interaction.followup.send(f"Marked solved{who}. Thank you!", ephemeral=True)

    # --- thanks --------------------------------------------------------------------------

    @app_commands.command(name="thanks", description="Thank a member who helped you")
    @app_commands.guild_only()
    @app_commands.describe(member="Who helped", message="A few words (300 characters at most)")
    async def thanks(
        self,
        interaction: discord.Interaction[PLNBot],
        member: discord.Member,
        message: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        given = await self.contributions.thank(
            guild.id,
            guild.name,
            interaction.user.id,
            member.id,
            receiver_is_bot=member.bot,
            channel_id=interaction.channel_id or 0,
            note=message,
        )
        await self._tell_helper(guild, member, member_of(interaction), message)
        await self.steps.sync_helpers(guild, only=[member.id])
        await interaction.followup.send(
            f"Thanks sent to {member.mention} (they have been thanked {given.received_total} "
            f"times here).",
            ephemeral=True,
        )

    async def _tell_helper(
        self,
        guild: discord.Guild,
        helper: discord.Member,
        giver: discord.abc.User,
        note: str | None,
        jump_url: str | None = None,
    ) -> None:
        """Privately, by DM; a member who keeps DMs closed simply is not told."""
        text = f"🙏 {giver.display_name} thanked you in {guild.name}"
        text += f": “{discord.utils.escape_markdown(note)}”" if note else "."
        if jump_url:
            text += f"\n{jump_url}"
        with contextlib.suppress(discord.HTTPException):
            await helper.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        emoji = payload.emoji
        if emoji.id is not None or not (emoji.name or "").startswith(THANKS_EMOJI):
            return
        if payload.guild_id is None or payload.member is None or payload.member.bot:
            return
        guild = self.bot.get_guild(payload.guild_id)
        receiver_id = payload.message_author_id
        if guild is None or receiver_id is None:
            return
        if not await self._thanks_welcome(guild, payload.channel_id):
            return
        receiver = guild.get_member(receiver_id)
        try:
            await self.contributions.thank(
                guild.id,
                guild.name,
                payload.member.id,
                receiver_id,
                receiver_is_bot=bool(receiver and receiver.bot)
                or receiver_id == getattr(self.bot.user, "id", None),
                channel_id=payload.channel_id,
                message_id=payload.message_id,
            )
        except UserFacingError as refused:  # a reaction has nobody to answer privately
            log.debug("thanks by reaction refused: %s", refused)
            return
        if receiver is not None:
            url = (
                f"https://discord.com/channels/{guild.id}/{payload.channel_id}/{payload.message_id}"
            )
            await self._tell_helper(guild, receiver, payload.member, None, url)
            await self.steps.sync_helpers(guild, only=[receiver_id])

    async def _thanks_welcome(self, guild: discord.Guild, channel_id: int) -> bool:
        """🙏 counts in a question's thread, a topic's channel, or a thread in one."""
        if await self.questions.by_thread(guild.id, channel_id) is not None:
            return True
        channel = guild.get_channel_or_thread(channel_id)
        parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
        for candidate in (channel_id, parent_id):
            if candidate and await self.topics.by_channel(guild.id, candidate) is not None:
                return True
        return False

    # --- threads kept in step ------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot:
            return
        if isinstance(message.channel, discord.Thread):
            await self.questions.message_posted(
                message.guild.id, message.channel.id, message.author.id
            )

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.questions.thread_changed(payload.guild_id, payload.thread_id, deleted=True)

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        metadata = payload.data.get("thread_metadata") or {}
        if "archived" in metadata:
            await self.questions.thread_changed(
                payload.guild_id, payload.thread_id, archived=bool(metadata["archived"])
            )
