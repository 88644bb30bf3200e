"""Every Discord-free service of the bot, built once by the composition root (`bot.app`).

Cogs receive the one instance of each service through `PLNBot.services`; nothing else constructs
them, so caches (the library's known guilds) and shared state (the scheduling core) are one per
process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.chats.service import ChatService
from bot.clock import Clock
from bot.database import SessionFactory
from bot.digests.service import DigestService
from bot.feeds.discovery import Discovery
from bot.feeds.poller import FeedPoller
from bot.feeds.service import FeedService
from bot.guilds.service import GuildService
from bot.learning.paths import PathService
from bot.learning.reminders import ReminderService
from bot.learning.service import LearningService
from bot.library.service import LibraryService
from bot.members.service import MemberService
from bot.prompts.service import PromptService
from bot.questions.contributions import ContributionService
from bot.questions.rules import Timing
from bot.questions.service import QuestionService
from bot.recap.service import NameResolver, RecapService
from bot.scheduling import Finder, Reporter, SchedulingCore
from bot.settings import Settings
from bot.topics.service import TopicService
from bot.topics.suggestions import TopicSuggestions
from bot.web.fetcher import SafeFetcher
from bot.webui.publishing import PublishingService


@dataclass(frozen=True)
class Services:
    guilds: GuildService
    members: MemberService
    topics: TopicService
    topic_suggestions: TopicSuggestions
    library: LibraryService
    fetcher: SafeFetcher
    prompts: PromptService
    chats: ChatService
    recap: RecapService
    digests: DigestService
    scheduling: SchedulingCore
    questions: QuestionService
    contributions: ContributionService
    feeds: FeedService
    feed_poller: FeedPoller
    publishing: PublishingService
    learning: LearningService
    paths: PathService
    reminders: ReminderService


def build_services(
    settings: Settings,
    sessions: SessionFactory,
    clock: Clock,
    *,
    scheduler: Any | None,
    guild_visible: Callable[[int], bool],
    report: Reporter,
    find_post: Finder,
    member_name: NameResolver,
) -> Services:
    """`guild_visible`, `report`, `find_post` and `member_name` are the only things the services
    ask of Discord: whether this process serves a guild, how to tell its moderators, whether a
    post of a crashed run arrived, a member's name."""
    topics = TopicService(sessions, clock)
    scheduling = SchedulingCore(
        sessions, clock, scheduler, guild_visible=guild_visible, report=report, find_post=find_post
    )
    library = LibraryService(
        sessions,
        clock,
        ignored_hosts=settings.library.ignored_hosts,
        search_candidates=settings.library.search_candidates,
    )
    fetcher = SafeFetcher(settings.web)
    discovery = Discovery(fetcher, settings.feeds, youtube_origin=settings.feeds.youtube_origin)
    learning = LearningService(sessions, clock, library)
    return Services(
        guilds=GuildService(sessions, clock),
        members=MemberService(sessions, clock),
        topics=topics,
        topic_suggestions=TopicSuggestions(sessions, clock, topics),
        library=library,
        fetcher=fetcher,
        prompts=PromptService(sessions, clock),
        chats=ChatService(sessions, clock),
        recap=RecapService(sessions, clock, topics, names=member_name),
        digests=DigestService(sessions, clock, topics, scheduling),
        scheduling=scheduling,
        questions=QuestionService(
            sessions,
            clock,
            Timing(
                nudge_after=timedelta(hours=settings.questions.nudge_after_hours),
                close_after=timedelta(hours=settings.questions.close_after_hours),
            ),
        ),
        contributions=ContributionService(
            sessions, clock, thanks_per_day=settings.questions.thanks_per_day
        ),
        feeds=FeedService(sessions, clock, settings.feeds, discovery, scheduling),
        feed_poller=FeedPoller(
            sessions,
            clock,
            settings.feeds,
            discovery,
            library,
            topics,
            scheduling.outbox,
            guild_visible=guild_visible,
            report=report,
        ),
        publishing=PublishingService(sessions, clock),
        learning=learning,
        paths=PathService(sessions, clock),
        reminders=ReminderService(sessions, clock, learning, scheduling),
    )
