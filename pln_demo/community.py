"""The sample learning community: a server, its channels, a moderator and a dozen members
spread over the world's time zones, built in the Discord emulator.

Only the Discord side is built here (what a server's owner would set up by hand); the bot's own
data (topics, prompts, the weekly chat) comes from the moderator's commands in the story.
Benchmarks may build the same community: `build_community(emulator)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from discord_emulator import Channel, DiscordEmulator, Guild, Member, Role

SERVER_NAME = "Learning Commons"
SERVER_TIMEZONE = "America/New_York"
MODERATOR = ("mona", "America/New_York")
# A dozen members, each in their own time zone (they read times in it).
MEMBERS = (
    ("ana", "Europe/Lisbon"),
    ("ben", "America/Chicago"),
    ("chen", "Asia/Shanghai"),
    ("dara", "Europe/Dublin"),
    ("eli", "America/Los_Angeles"),
    ("fatima", "Africa/Lagos"),
    ("gus", "America/Sao_Paulo"),
    ("hana", "Asia/Tokyo"),
    ("ivan", "Europe/Berlin"),
    ("jo", "Australia/Sydney"),
    ("kai", "Pacific/Auckland"),
    ("lee", "Asia/Kolkata"),
)
CHANNELS = ("welcome", "general", "recap", "mod-log")


@dataclass(frozen=True)
class Person:
    name: str
    timezone: ZoneInfo
    member: Member

    @property
    def id(self) -> int:
        return self.member.id


@dataclass(frozen=True)
class Community:
    guild: Guild
    moderators: Role
    channels: dict[str, Channel]
    moderator: Person
    members: tuple[Person, ...]
    timezone: ZoneInfo

    @property
    def people(self) -> tuple[Person, ...]:
        return (self.moderator, *self.members)

    def person(self, name: str) -> Person:
        for person in self.people:
            if person.name == name.lower().lstrip("@"):
                return person
        known = ", ".join(p.name for p in self.people)
        raise KeyError(f"no one here is called {name!r} (here: {known})")

    def by_id(self, user_id: int) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)


def build_community(emulator: DiscordEmulator) -> Community:
    """The server as its owner, the moderator, set it up: channels, a Moderators role, members.
    Call it before the bot connects, or after: changes are dispatched to a connected bot."""
    name, zone = MODERATOR
    owner = emulator.create_user(name)
    guild = emulator.create_guild(SERVER_NAME, owner=owner)
    channels = {channel: emulator.create_channel(guild, channel) for channel in CHANNELS}
    moderators = emulator.create_role(guild, "Moderators")
    moderator_member = guild.members[owner.id]
    emulator.add_role(moderator_member, moderators)
    members = tuple(
        Person(member_name, ZoneInfo(member_zone), emulator.create_member(guild, member_name))
        for member_name, member_zone in MEMBERS
    )
    return Community(
        guild=guild,
        moderators=moderators,
        channels=channels,
        moderator=Person(name, ZoneInfo(zone), moderator_member),
        members=members,
        timezone=ZoneInfo(SERVER_TIMEZONE),
    )
