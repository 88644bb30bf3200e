"""Every feature's tables, imported so `Base.metadata` knows them all (Alembic, schema tests)."""

from bot.chats import models as chats
from bot.digests import models as digests
from bot.feeds import models as feeds
from bot.guilds import models as guilds
from bot.learning import models as learning
from bot.library import models as library
from bot.members import models as members
from bot.models.base import Base
from bot.prompts import models as prompts
from bot.questions import models as questions
from bot.recap import models as recap
from bot.scheduling import models as scheduling
from bot.topics import models as topics
from bot.webui import models as webui

__all__ = [
    "Base",
    "chats",
    "digests",
    "feeds",
    "guilds",
    "learning",
    "library",
    "members",
    "prompts",
    "questions",
    "recap",
    "scheduling",
    "topics",
    "webui",
]
