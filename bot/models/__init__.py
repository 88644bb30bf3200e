"""Every model module, imported so `Base.metadata` knows all tables (Alembic compares)."""

from bot.models import core
from bot.models import library as library
from bot.models import recap as recap
from bot.models import scheduling as scheduling
from bot.models import topics as topics
from bot.models.base import Base
from bot.models.core import AuditEntry, Guild, GuildMember

__all__ = ["AuditEntry", "Base", "Guild", "GuildMember", "core"]
