"""The test-driver API: build a guild, act as its members, and wait for the bot's replies.

Everything a member does goes through the same paths as a real client would: messages are
checked against the member's permissions and dispatched over the gateway; slash commands are
built from the schema the bot synced. Waits wake on every state change (no sleeps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from discord_emulator import invocations, messaging, rules, wire
from discord_emulator.errors import JSON, DiscordError, EmulatorUsageError
from discord_emulator.gateway import GatewayHub
from discord_emulator.messaging import UploadedFile
from discord_emulator.models import (
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    User,
)
from discord_emulator.permissions import Permission
from discord_emulator.rest.channels import add_reaction, channel_event, remove_reaction
from discord_emulator.rest.guilds import member_update, role_event
from discord_emulator.rest.interactions import DEFERRED_UPDATE, MODAL, UPDATE_MESSAGE
from discord_emulator.state import (
    EmulatorState,
    GatewayEvent,
    Intent,
    InteractionRecord,
    Watcher,
)

T = TypeVar("T")

# What the bot's managed role gets unless a test says otherwise: what the PLN bot's invite asks.
DEFAULT_BOT_PERMISSIONS = int(
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.MANAGE_MESSAGES
    | Permission.MANAGE_THREADS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
    | Permission.MANAGE_CHANNELS
    | Permission.MANAGE_ROLES
    | Permission.MANAGE_EVENTS
    | Permission.CREATE_EVENTS
)

UserLike = User | Member


def _describe(interaction: InteractionRecord) -> str:
    data = interaction.payload.get("data") or {}
    name = data.get("name") or data.get("custom_id") or "?"
    return f"interaction {interaction.id} ({name})"


def _user(who: UserLike) -> User:
    return who.user if isinstance(who, Member) else who


class Driver:
    state: EmulatorState
    hub: GatewayHub

    # --- world building ----------------------------------------------------------------------

    @property
    def bot_user(self) -> User:
        return self.state.bot_user

    @property
    def application_id(self) -> int:
        return self.state.application_id

    def create_user(self, name: str, *, bot: bool = False) -> User:
        return self.state.add_user(name, bot=bot)

    def create_guild(
        self,
        name: str = "PLN",
        *,
        owner: User | None = None,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> Guild:
        """A guild with an owner and the bot (holding a managed role with `bot_permissions`)."""
        state = self.state
        owner = owner or state.add_user(f"{name.lower()}-owner")
        guild = state.add_guild(name, owner)
        guild.members[owner.id] = Member(owner, guild.id, joined_at=state.clock())
        bot_role = Role(
            id=state.snowflakes.next(),
            guild_id=guild.id,
            name=state.bot_user.username,
            permissions=bot_permissions,
            position=1,
            managed=True,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[state.bot_user.id] = Member(
            state.bot_user, guild.id, [bot_role.id], joined_at=state.clock()
        )
        self.hub.guild_create(guild.id)
        return guild

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.state.bot_user.id]

    def bot_role(self, guild: Guild) -> Role:
        return next(
            r for r in guild.roles.values() if r.managed and r.name == self.state.bot_user.username
        )

    def set_bot_permissions(self, guild: Guild, permissions: int) -> None:
        role = self.bot_role(guild)
        role.permissions = permissions
        role_event(self.state, "GUILD_ROLE_UPDATE", role)

    def create_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        position: int | None = None,
    ) -> Role:
        """A role placed below the bot's role unless `position` says otherwise."""
        bot_role = self.bot_role(guild)
        if position is None:
            position = bot_role.position
            for role in guild.roles.values():
                if role.position >= position and role.id != guild.id:
                    role.position += 1
                    role_event(self.state, "GUILD_ROLE_UPDATE", role)
        role = Role(
            id=self.state.snowflakes.next(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=position,
            mentionable=mentionable,
        )
        guild.roles[role.id] = role
        role_event(self.state, "GUILD_ROLE_CREATE", role)
        return role

    def create_member(
        self,
        guild: Guild,
        name: str,
        *,
        roles: Iterable[Role] = (),
        permissions: int | None = None,
        nick: str | None = None,
        user: User | None = None,
    ) -> Member:
        """A member; `permissions` gives them a personal role with exactly those permissions."""
        state = self.state
        user = user or state.add_user(name)
        role_ids = [r.id for r in roles]
        if permissions is not None:
            role_ids.append(
                self.create_role(guild, f"{name}-permissions", permissions=permissions).id
            )
        member = Member(user, guild.id, role_ids, nick=nick, joined_at=state.clock())
        guild.members[user.id] = member
        data = wire.member(member)
        data["guild_id"] = str(guild.id)
        state.emit(GatewayEvent("GUILD_MEMBER_ADD", data, intent=Intent.GUILD_MEMBERS))
        return member

    def remove_member(self, member: Member) -> None:
        guild = self.state.guilds[member.guild_id]
        del guild.members[member.id]
        data = {"guild_id": str(guild.id), "user": wire.user(member.user)}
        self.state.emit(GatewayEvent("GUILD_MEMBER_REMOVE", data, intent=Intent.GUILD_MEMBERS))

    def add_role(self, member: Member, role: Role) -> None:
        if role.id not in member.roles:
            member.roles.append(role.id)
            member_update(self.state, self.state.guilds[member.guild_id], member)

    def remove_role(self, member: Member, role: Role) -> None:
        if role.id in member.roles:
            member.roles.remove(role.id)
            member_update(self.state, self.state.guilds[member.guild_id], member)

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: ChannelType = ChannelType.GUILD_TEXT,
        parent: Channel | None = None,
        topic: str | None = None,
        tags: Iterable[str] = (),
    ) -> Channel:
        """A guild channel (text by default; pass type= for categories and forums)."""
        channel = self.state.add_channel(
            guild, name, type, parent_id=parent.id if parent else None, topic=topic
        )
        channel.available_tags = [
            {
                "id": str(self.state.snowflakes.next()),
                "name": tag,
                "moderated": False,
                "emoji_id": None,
                "emoji_name": None,
            }
            for tag in tags
        ]
        channel_event(self.state, "CREATE", channel)
        return channel

    def create_thread(
        self, channel: Channel, name: str, *, owner: UserLike, private: bool = False
    ) -> Channel:
        """A thread a member started (without a starter message)."""
        kind = ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD
        guild = self.state.channel_guild(channel)
        thread = self.state.add_channel(
            guild, name, kind, parent_id=channel.id, owner_id=_user(owner).id
        )
        thread.member_ids.add(_user(owner).id)
        thread.archive_timestamp = self.state.clock()
        data = wire.channel(thread, self.state)
        data["newly_created"] = True
        self.state.emit(GatewayEvent("THREAD_CREATE", data, intent=Intent.GUILDS))
        return thread

    def set_overwrite(
        self, channel: Channel, target: Role | Member, *, allow: int = 0, deny: int = 0
    ) -> None:
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites = [o for o in channel.overwrites if o.id != target.id]
        channel.overwrites.append(Overwrite(target.id, kind, allow, deny))
        channel_event(self.state, "UPDATE", channel)

    def set_dms_closed(self, who: UserLike, closed: bool = True) -> None:
        """The bot's DMs to this user fail with 50007, as with a member who closed DMs."""
        _user(who).dms_closed = closed

    # --- members acting ----------------------------------------------------------------------

    def _require_bot_connected(self) -> None:
        if not any(s.resumable for s in self.hub.sessions.values()):
            raise EmulatorUsageError("the bot has no gateway session: start it before acting")

    async def post_message(
        self,
        author: UserLike,
        channel: Channel,
        content: str = "",
        *,
        embeds: list[JSON] | None = None,
        reply_to: Message | None = None,
        allowed_mentions: JSON | None = None,
        files: dict[str, bytes] | None = None,
    ) -> Message:
        """A member posts in a channel (or in the bot's DM channel with them)."""
        user = _user(author)
        body: JSON = {"content": content, "embeds": embeds or []}
        if allowed_mentions is not None:
            body["allowed_mentions"] = allowed_mentions
        if reply_to is not None:
            body["message_reference"] = {
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
            }
        uploads = [
            UploadedFile(i, name, data, None)
            for i, (name, data) in enumerate((files or {}).items())
        ]
        try:
            messaging.check_can_send(self.state, channel, user, body)
            rules.check_message(body, has_files=bool(uploads)).raise_if_any()
        except DiscordError as error:
            raise EmulatorUsageError(
                f"{user.username} cannot post that: {error.message} {error.errors or ''}"
            ) from None
        message = messaging.build_message(self.state, channel, user, body, uploads)
        return messaging.publish_create(self.state, message)

    async def dm_bot(self, author: UserLike, content: str) -> Message:
        """A user sends the bot a direct message."""
        return await self.post_message(author, self.state.dm_channel(_user(author)), content)

    async def edit_message(self, message: Message, content: str) -> Message:
        return messaging.apply_edit(self.state, message, {"content": content}, [])

    async def delete_message(self, message: Message) -> None:
        messaging.delete(self.state, message)

    async def react(self, who: UserLike, message: Message, emoji: str) -> None:
        """Add a reaction: `emoji` is the unicode character or `name:id` for a custom emoji."""
        add_reaction(self.state, message, emoji, _user(who).id)

    async def unreact(self, who: UserLike, message: Message, emoji: str) -> None:
        remove_reaction(self.state, message, emoji, _user(who).id)

    # --- interactions ------------------------------------------------------------------------

    async def invoke(
        self,
        who: UserLike,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        channel: Channel,
        bypass_default_permissions: bool = False,
    ) -> InteractionRecord:
        """Run a slash command, e.g. `await emu.invoke(alice, "pln settings", {...}, channel=c)`.

        `bypass_default_permissions` simulates an admin override of the command's
        default_member_permissions, so the bot's own server-side check can be tested.
        """
        self._require_bot_connected()
        return invocations.slash_command(
            self.state,
            _user(who),
            channel,
            command,
            options or {},
            bypass_default_permissions=bypass_default_permissions,
        )

    async def autocomplete(
        self,
        who: UserLike,
        command: str,
        options: dict[str, Any],
        *,
        focused: str,
        channel: Channel,
        bypass_default_permissions: bool = False,
    ) -> list[JSON]:
        """The choices the bot offers while `who` types option `focused`."""
        self._require_bot_connected()
        record = invocations.slash_command(
            self.state,
            _user(who),
            channel,
            command,
            options,
            focused=focused,
            bypass_default_permissions=bypass_default_permissions,
        )
        await self._wait(
            lambda: record.autocomplete_choices is not None, f"autocomplete of {command!r}"
        )
        return list(record.autocomplete_choices or [])

    async def invoke_user_command(
        self, who: UserLike, name: str, target: UserLike, *, channel: Channel
    ) -> InteractionRecord:
        self._require_bot_connected()
        return invocations.context_menu(self.state, _user(who), channel, name, _user(target))

    async def invoke_message_command(
        self, who: UserLike, name: str, target: Message
    ) -> InteractionRecord:
        self._require_bot_connected()
        channel = self.state.channel(target.channel_id)
        return invocations.context_menu(self.state, _user(who), channel, name, target)

    async def click(self, who: UserLike, message: Message, target: str) -> InteractionRecord:
        """Press the button whose custom_id or label is `target`."""
        self._require_bot_connected()
        return invocations.component(self.state, _user(who), message, target, None)

    async def select(
        self, who: UserLike, message: Message, target: str, values: list[str]
    ) -> InteractionRecord:
        self._require_bot_connected()
        return invocations.component(self.state, _user(who), message, target, values)

    async def submit_modal(
        self,
        who: UserLike,
        modal_from: InteractionRecord,
        values: dict[str, str],
    ) -> InteractionRecord:
        """Fill in and submit the modal the bot answered `modal_from` with."""
        await self.wait_for_modal(modal_from)
        return invocations.modal_submit(self.state, _user(who), modal_from, values)

    # --- waiting -----------------------------------------------------------------------------
    # Every wait gives up after `wait_timeout` seconds; wrap a call in `asyncio.timeout()` for a
    # shorter limit.

    wait_timeout: float = 5.0

    async def _wait(self, predicate: Callable[[], T | None], what: str) -> T:
        return await self.state.wait_until(predicate, self.wait_timeout, what)

    async def wait_until(self, predicate: Callable[[], T | None]) -> T:
        """The first truthy `predicate()`, re-evaluated on every change in the emulator."""
        return await self._wait(predicate, getattr(predicate, "__name__", "a condition"))

    async def wait_for_response(self, interaction: InteractionRecord) -> Message:
        """The bot's visible answer: the reply (once a deferral is filled in) or, for a component
        interaction answered with an update, the updated message."""

        def answered() -> Message | None:
            if interaction.response_type == MODAL:
                raise EmulatorUsageError("the bot answered with a modal: use wait_for_modal")
            if interaction.response_type in (DEFERRED_UPDATE, UPDATE_MESSAGE):
                return self.state.messages[interaction.source_message_id or 0]
            message = self.state.messages.get(interaction.original_message_id or 0)
            return message if message is not None and not message.loading else None

        return await self._wait(answered, f"the bot's response to {_describe(interaction)}")

    async def wait_for_modal(self, interaction: InteractionRecord) -> JSON:
        return await self._wait(lambda: interaction.modal, f"a modal for {_describe(interaction)}")

    async def wait_for_followup(self, interaction: InteractionRecord, index: int = 0) -> Message:
        """The bot's `index`-th follow-up (POST /webhooks/...). After a deferral the first
        follow-up fills in the "thinking..." reply, as on Discord, so it is also the response."""

        def followup() -> Message | None:
            ids = interaction.followup_ids
            return self.state.messages[ids[index]] if len(ids) > index else None

        return await self._wait(followup, f"follow-up #{index} to {_describe(interaction)}")

    async def wait_for_message(
        self,
        channel: Channel,
        predicate: Callable[[Message], bool] | None = None,
        *,
        author: UserLike | None = None,
    ) -> Message:
        """The first message in `channel` history by `author` (default: the bot) that matches."""
        author_id = _user(author).id if author is not None else self.state.bot_user.id

        def found() -> Message | None:
            for message in self.state.history(channel.id):
                if message.author.id == author_id and (predicate is None or predicate(message)):
                    return message
            return None

        return await self._wait(found, f"a message in #{channel.name}")

    async def wait_for_bot_ready(self, limit: float | None = None) -> None:
        """Until a gateway session has received READY and every GUILD_CREATE; `limit` replaces
        the usual wait for a bot process that first has to start (and migrate)."""

        def ready() -> bool:
            return any(
                s.connection is not None and s.connection.sent_upto >= s.seq and s.resumable
                for s in self.hub.sessions.values()
            )

        what = "the bot's gateway session to be READY"
        await self.state.wait_until(ready, limit or self.wait_timeout, what)

    # --- reading -----------------------------------------------------------------------------

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher(happening)` for every message created, edited or deleted (ephemeral
        ones too), every interaction a member sends, every modal the bot opens and every
        reaction, as it happens. Returns a function that stops watching."""
        self.state.watchers.append(watcher)

        def stop() -> None:
            if watcher in self.state.watchers:
                self.state.watchers.remove(watcher)

        return stop

    def history(self, channel: Channel) -> list[Message]:
        """The channel as Discord holds it: oldest first, without ephemeral or deleted messages."""
        return self.state.history(channel.id)

    def dm_history(self, who: UserLike) -> list[Message]:
        return self.state.history(self.state.dm_channel(_user(who)).id)

    def ephemeral_messages(self, who: UserLike) -> list[Message]:
        user_id = _user(who).id
        return [
            m for m in self.state.messages.values() if m.visible_to == user_id and not m.deleted
        ]

    def synced_commands(self, guild: Guild | None = None) -> list[JSON]:
        return guild.commands if guild is not None else self.state.global_commands

    def attachment_bytes(self, message: Message, index: int = 0) -> bytes:
        return message.attachments[index].data
