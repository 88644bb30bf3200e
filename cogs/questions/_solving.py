"""The Discord side of a question: its forum tags, its thread's name, the solved note, filing
its links in the library. Shared by /ask, the context menu, /solved and the Solved button."""

from __future__ import annotations

import contextlib
import logging

import discord

from bot.core import PLNBot
from bot.questions.records import QuestionInfo, Solved
from cogs.questions._render import solved_text, thread_name

log = logging.getLogger(__name__)
OPEN_TAG, SOLVED_TAG = "open", "solved"
QUESTION_SOURCE = "question"


async def forum_tags(forum: discord.ForumChannel) -> dict[str, discord.ForumTag]:
    """The forum's `open` and `solved` tags, created if missing (the bot keeps them)."""
    tags = {t.name.casefold(): t for t in forum.available_tags}
    missing = [name for name in (OPEN_TAG, SOLVED_TAG) if name not in tags]
    if missing:
        wanted = [*forum.available_tags, *(discord.ForumTag(name=name) for name in missing)]
        try:
            forum = await forum.edit(available_tags=wanted[:20])
        except discord.Forbidden:  # without Manage Channels the post goes up untagged
            log.warning("cannot create the open/solved tags in forum %s", forum.id)
        else:
            tags = {t.name.casefold(): t for t in forum.available_tags}
    return {name: tags[name] for name in (OPEN_TAG, SOLVED_TAG) if name in tags}


async def thread_of(bot: PLNBot, guild: discord.Guild, thread_id: int) -> discord.Thread | None:
    """The thread, or None when it is gone (other errors propagate: the step runs again)."""
    channel = guild.get_channel_or_thread(thread_id)
    if isinstance(channel, discord.Thread):
        return channel
    try:
        fetched = await bot.fetch_channel(thread_id)
    except (discord.NotFound, discord.Forbidden):  # deleted, or no longer the bot's to see
        return None
    return fetched if isinstance(fetched, discord.Thread) else None


async def show_solved(
    bot: PLNBot, guild: discord.Guild, thread: discord.Thread, solved: Solved, marker_id: int
) -> None:
    """The thread shows it: the `solved` tag in a forum, a ✅ name prefix elsewhere; a short
    "Solved by" note; the question's and the solution's links go to the library."""
    question = solved.question
    if thread.archived:  # a closed thread must be opened to be changed
        thread = await thread.edit(archived=False)
    if isinstance(thread.parent, discord.ForumChannel):
        tags = await forum_tags(thread.parent)
        applied = [t for t in thread.applied_tags if t.name.casefold() != OPEN_TAG]
        if SOLVED_TAG in tags and all(t.id != tags[SOLVED_TAG].id for t in applied):
            applied.append(tags[SOLVED_TAG])
        await thread.edit(applied_tags=applied[:5])
    else:
        await thread.edit(name=thread_name(question.title, solved=True))
    await thread.send(
        solved_text(question, marker_id), allowed_mentions=discord.AllowedMentions.none()
    )
    await file_links(bot, question)


async def file_links(bot: PLNBot, question: QuestionInfo) -> None:
    """Links in the question and in the solution, filed with the topic's tags (source: question)."""
    topic = (
        await bot.services.topics.get(question.guild_id, question.topic_id)
        if question.topic_id
        else None
    )
    tags = topic.default_tags if topic is not None else ()
    library = bot.services.library
    if question.message_id is not None and "http" in question.details + question.title:
        await library.capture_links(
            question.guild_id,
            question.thread_id,
            question.message_id,
            question.asker_id,
            f"{question.title}\n{question.details}",
            tags=tags,
            source=QUESTION_SOURCE,
        )
    if question.solution_message_id is not None and question.solver_id is not None:
        content = await _solution_content(bot, question)
        if content and "http" in content:
            await library.capture_links(
                question.guild_id,
                question.thread_id,
                question.solution_message_id,
                question.solver_id,
                content,
                tags=tags,
                source=QUESTION_SOURCE,
            )


async def _solution_content(bot: PLNBot, question: QuestionInfo) -> str:
    """The solution's full text (the stored excerpt may be cut)."""
    assert question.solution_message_id is not None
    with contextlib.suppress(discord.HTTPException):
        channel = bot.get_partial_messageable(question.thread_id)
        message = await channel.fetch_message(question.solution_message_id)
        return message.content
    return question.solution_excerpt
