"""Every model module, imported so `Base.metadata` knows all tables (Alembic compares)."""

from bot.models import core
from bot.models.base import Base
from bot.models.core import AuditEntry, Guild, GuildMember

__all__ = ["AuditEntry", "Base", "Guild", "GuildMember", "core"]
