"""Outbound: posts, replies (as slash-command followups where one is pending), edits, deletes
and member actions, each through the outbound queue with Discord errors mapped to core errors."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import discord

from adapters.discord.client import BUTTON_PREFIX, DIGEST_PREFIX, MAX_CUSTOM_ID, PLATFORM, Pending, StaticView
from adapters.discord.errors import DiscordRequestRejected, TimeoutTooLong, guild_id, members_key, snowflake
from adapters.discord.render import MAX_CONTENT, render, render_chunks
from bot.errors import BotLacksPermission, RateLimited, TargetNotFound, TransportError
from bot.events import ChatRef, SentMessage
from bot.messages import Button, OutgoingMessage
from bot.roles import Role

if TYPE_CHECKING:
    from adapters.discord.config import DiscordConfig
    from bot.clock import Clock
    from bot.outbound import OutboundQueue

log = logging.getLogger("adapters.discord.adapter")
T = TypeVar("T")

#: Discord refuses a timeout longer than 28 days.
MAX_TIMEOUT = timedelta(days=28)


class ActionsMixin:
    """The adapter's outbound half: every ``Adapter`` action Discord can do."""

    name: str
    config: DiscordConfig
    clock: Clock
    client: discord.Client
    queue: OutboundQueue
    default_language: str
    _pending: dict[str, Pending]
    _long_ids: dict[str, str]

    if TYPE_CHECKING:

        def t(self, lang: str, key: str, /, **values: Any) -> str: ...

    # ---------------------------------------------------------------- outbound

    async def _call(self, chat_key: str, call: Callable[[], Awaitable[T]]) -> T:
        async def guarded() -> T:
            try:
                return await call()
            except discord.Forbidden as exc:
                raise BotLacksPermission(f"Discord {exc.code}: {exc.text or 'Forbidden'}") from exc
            except discord.NotFound as exc:
                raise TargetNotFound(f"Discord {exc.code}: {exc.text or 'Not Found'}") from exc
            except discord.RateLimited as exc:
                raise RateLimited(exc.retry_after) from exc
            except discord.DiscordServerError as exc:
                raise TransportError(f"Discord {exc.status}: {exc.text}") from exc
            except discord.HTTPException as exc:
                if exc.status == 429:
                    raise RateLimited(1.0) from exc
                raise DiscordRequestRejected(f"Discord {exc.status}/{exc.code}: {exc.text}") from exc
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise TransportError(str(exc) or type(exc).__name__) from exc

        return await self.queue.run(chat_key, guarded)

    def _allowed(self, message: OutgoingMessage) -> discord.AllowedMentions:
        """Only the members the message lists in ``notify`` are pinged; never everyone, never roles.

        A mention outside ``notify`` still shows as a clickable name but sends no notification:
        features say whom to ping (a recall post, an escalated alert), so an alert that names the
        offender does not ping them, and a reply still notifies the member it answers.
        """
        users = [discord.Object(id=int(u.user_id)) for u in message.notify if u.user_id.isdigit()]
        return discord.AllowedMentions(
            everyone=False, roles=False, users=users, replied_user=not message.silent
        )

    def _custom_id(self, button: Button) -> str:
        custom_id = BUTTON_PREFIX + button.data
        if len(custom_id) <= MAX_CUSTOM_ID:
            return custom_id
        # Too long for Discord: a digest stands in. Only this run knows it, so say so.
        digest = DIGEST_PREFIX + hashlib.sha256(button.data.encode()).hexdigest()[:40]
        self._long_ids[digest] = button.data
        log.warning(
            "button data longer than %d characters will not survive a restart: %r",
            MAX_CUSTOM_ID - len(BUTTON_PREFIX),
            button.data[:40],
        )
        return digest

    def _view(self, message: OutgoingMessage) -> discord.ui.View | None:
        if not message.buttons:
            return None
        view = StaticView(timeout=None)
        if len(message.buttons) > 5 or any(len(row) > 5 for row in message.buttons):
            # Discord shows at most 5 rows of 5 buttons; say so rather than drop them unnoticed.
            log.warning("Discord adapter %s: only 5 rows of 5 buttons fit; the rest are left out", self.name)
        for row, buttons in enumerate(message.buttons[:5]):
            for button in buttons[:5]:
                view.add_item(
                    discord.ui.Button(
                        label=button.text[:80] or "·",
                        row=row,
                        style=discord.ButtonStyle.secondary,
                        custom_id=self._custom_id(button),
                    )
                )
        return view

    async def fetch_image(self, ref: str, limit: int) -> bytes:
        """A picture a member attached (its CDN URL, from the message Discord gave us)."""
        data = await self._call("cdn", lambda: self.client.http.get_from_cdn(ref))
        return data[: limit + 1]

    def _file(self, message: OutgoingMessage) -> discord.File | None:
        return discord.File(message.image) if message.image else None

    def _live_pending(self, message_id: str | None) -> Pending | None:
        if message_id is None:
            return None
        pending = self._pending.get(message_id)
        if pending is None or self.clock.now() >= pending.expires:
            return None
        return pending

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Post (or reply), split at 2000 characters; buttons and a file ride on the last part."""
        chunks = render_chunks(message.parts)
        pending = self._live_pending(message.reply_to)
        allowed = self._allowed(message)
        last_id = 0
        if chunks == [""] and not message.image and not message.buttons:
            raise DiscordRequestRejected("an empty message: Discord refuses to post nothing")
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            view = self._view(message) if last else None
            file = self._file(message) if last else None
            if pending is not None:
                sent_id = await self._followup(chat, pending, chunk, allowed, view, file, message.silent)
            else:
                sent_id = await self._channel_send(
                    chat, message, chunk, allowed, view, file, first=index == 0
                )
            last_id = sent_id
        return SentMessage(chat=chat, message_id=str(last_id))

    async def _channel_send(
        self,
        chat: ChatRef,
        message: OutgoingMessage,
        chunk: str,
        allowed: discord.AllowedMentions,
        view: discord.ui.View | None,
        file: discord.File | None,
        *,
        first: bool,
    ) -> int:
        channel = self.client.get_partial_messageable(snowflake(chat.channel_id), guild_id=guild_id(chat))
        reference = None
        if first and message.reply_to and message.reply_to.isdigit():
            # A reply to a message deleted meanwhile (say, by moderation) still goes out, unthreaded.
            reference = discord.MessageReference(
                message_id=int(message.reply_to), channel_id=channel.id, fail_if_not_exists=False
            )
        kwargs: dict[str, Any] = {"allowed_mentions": allowed, "silent": message.silent}
        if reference is not None:
            kwargs["reference"] = reference
        if view is not None:
            kwargs["view"] = view
        if file is not None:
            kwargs["file"] = file

        async def call() -> int:
            sent = await channel.send(chunk or None, **kwargs)
            return sent.id

        return await self._call(chat.channel_id, call)

    async def _followup(
        self,
        chat: ChatRef,
        pending: Pending,
        chunk: str,
        allowed: discord.AllowedMentions,
        view: discord.ui.View | None,
        file: discord.File | None,
        silent: bool,
    ) -> int:
        kwargs: dict[str, Any] = {"allowed_mentions": allowed, "wait": True, "silent": silent}
        if view is not None:
            kwargs["view"] = view
        if file is not None:
            kwargs["file"] = file

        async def call() -> int:
            sent = await pending.interaction.followup.send(chunk or "\u200b", **kwargs)
            assert sent is not None  # wait=True always returns the message
            return sent.id

        sent_id = await self._call(chat.channel_id, call)
        pending.replied = True
        pending.followups.add(sent_id)
        return sent_id

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """Replace text and buttons (no buttons removes them); longer text is cut at 2000."""
        content = render(message.parts)
        if len(content) > MAX_CONTENT:
            content = render_chunks(message.parts, MAX_CONTENT - 1)[0] + "…"
        view = self._view(message)
        mid = snowflake(message_id)
        owner = next((p for p in self._pending.values() if mid in p.followups), None)
        if owner is not None:
            # An answer to a slash command is the interaction's webhook message: edit it there.
            followup = owner.interaction.followup

            async def via_webhook() -> None:
                await followup.edit_message(
                    mid, content=content, view=view, allowed_mentions=self._allowed(message)
                )

            await self._call(f"{chat.channel_id}:edit", via_webhook)
            return
        partial = self.client.get_partial_messageable(snowflake(chat.channel_id), guild_id=guild_id(chat))

        async def call() -> None:
            await partial.get_partial_message(mid).edit(
                content=content, view=view, allowed_mentions=self._allowed(message)
            )

        await self._call(f"{chat.channel_id}:edit", call)

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Delete a message (a slash command's id removes the bot's answer to it).

        Deletes queue apart from the channel's posts (Discord buckets them apart too), so removing
        a red hit never waits behind a burst of replies.
        """
        pending = self._pending.get(message_id)
        if pending is not None:
            interaction = pending.interaction

            async def remove_answer() -> None:
                await interaction.delete_original_response()

            await self._call(f"{chat.channel_id}:delete", remove_answer)
            return
        partial = self.client.get_partial_messageable(snowflake(chat.channel_id), guild_id=guild_id(chat))
        mid = snowflake(message_id)

        async def call() -> None:
            await partial.get_partial_message(mid).delete()

        await self._call(f"{chat.channel_id}:delete", call)

    async def _guild(self, chat: ChatRef) -> discord.Guild:
        if chat.is_private:
            raise TargetNotFound("a private chat has no server")
        gid = snowflake(chat.scope_id)
        guild = self.client.get_guild(gid)
        if guild is not None:
            return guild
        return await self._call(members_key(chat), lambda: self.client.fetch_guild(gid))

    async def _member(self, chat: ChatRef, user_id: str) -> discord.Member:
        guild = await self._guild(chat)
        uid = snowflake(user_id)
        member = guild.get_member(uid)
        if member is not None:
            return member
        return await self._call(members_key(chat), lambda: guild.fetch_member(uid))

    async def mute(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Time the member out. Discord caps a timeout at 28 days: longer or indefinite is refused."""
        now = self.clock.now()
        if until is None or until - now > MAX_TIMEOUT:
            raise TimeoutTooLong(self.name, self.t(self.default_language, "discord.timeout_too_long"))
        member = await self._member(chat, user_id)
        if until <= now:
            await self._call(members_key(chat), lambda: member.timeout(None, reason="Qunyou: mute ended"))
            return
        await self._call(members_key(chat), lambda: member.timeout(until, reason="Qunyou moderation"))

    async def unmute(self, chat: ChatRef, user_id: str) -> None:
        """Lift the timeout."""
        member = await self._member(chat, user_id)
        await self._call(members_key(chat), lambda: member.timeout(None, reason="Qunyou: unmuted"))

    async def ban(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Ban. Discord bans do not expire: a temporary ban is lifted by the core's scheduled unban."""
        guild = await self._guild(chat)
        target = discord.Object(id=snowflake(user_id))
        await self._call(
            members_key(chat),
            lambda: guild.ban(target, reason="Qunyou moderation", delete_message_seconds=0),
        )

    async def unban(self, chat: ChatRef, user_id: str) -> None:
        """Lift a ban."""
        guild = await self._guild(chat)
        target = discord.Object(id=snowflake(user_id))
        await self._call(members_key(chat), lambda: guild.unban(target, reason="Qunyou: unbanned"))

    async def kick(self, chat: ChatRef, user_id: str) -> None:
        """Remove the member; they may rejoin with an invite."""
        guild = await self._guild(chat)
        target = discord.Object(id=snowflake(user_id))
        await self._call(members_key(chat), lambda: guild.kick(target, reason="Qunyou moderation"))

    async def get_role(self, chat: ChatRef, user_id: str) -> Role:
        """Owner → owner; Administrator or Manage Server → admin; Moderate Members or Manage
        Messages → moderator; everyone else (and anyone in a DM) → member."""
        if chat.is_private:
            return Role.MEMBER
        member = await self._member(chat, user_id)
        if member.guild.owner_id == member.id:
            return Role.OWNER
        perms = member.guild_permissions
        if perms.administrator or perms.manage_guild:
            return Role.ADMIN
        if perms.moderate_members or perms.manage_messages:
            return Role.MODERATOR
        return Role.MEMBER

    async def send_private(self, user_id: str, message: OutgoingMessage) -> SentMessage:
        """Open (or reuse) the DM channel and post there."""
        uid = snowflake(user_id)
        user = self.client.get_user(uid)
        if user is None:
            user = await self._call(f"dm:{user_id}", lambda: self.client.fetch_user(uid))
        dm = user.dm_channel
        if dm is None:
            dm = await self._call(f"dm:{user_id}", user.create_dm)
        chat = ChatRef(PLATFORM, self.name, user_id, str(dm.id), kind="private")
        return await self.send(chat, message)

    def default_moderator_chat(self, chat: ChatRef) -> ChatRef | None:
        """The configured moderator channel, when it belongs to this server (an id or a name)."""
        wanted = self.config.moderator_channel.strip().lstrip("#")
        if not wanted or chat.is_private:
            return None
        guild = self.client.get_guild(snowflake(chat.scope_id))
        if guild is None:
            return None
        channel: discord.abc.GuildChannel | None
        if wanted.isdigit():
            channel = guild.get_channel(int(wanted))
        else:
            channel = discord.utils.get(guild.text_channels, name=wanted)
        if channel is None:
            return None
        return ChatRef(PLATFORM, self.name, chat.scope_id, str(channel.id), kind="group", title=guild.name)

    async def verified(self, chat: ChatRef, user_id: str) -> None:
        """Grant the configured ``verified_role`` to a newcomer who passed join verification."""
        if not self.config.verified_role or chat.is_private:
            return
        member = await self._member(chat, user_id)
        if any(str(r.id) == self.config.verified_role for r in member.roles):
            return
        role = discord.Object(id=int(self.config.verified_role))
        await self._call(
            members_key(chat), lambda: member.add_roles(role, reason="Qunyou: passed verification")
        )

    async def level_reached(self, chat: ChatRef, user_id: str, level: int) -> None:
        """Give the role configured for the highest level reached, and take back the other ones."""
        if not self.config.level_roles or chat.is_private:
            return
        reached = [lv for lv in self.config.level_roles if lv <= level]
        if not reached:
            return
        member = await self._member(chat, user_id)
        target = self.config.level_roles[max(reached)]
        others = {rid for lv, rid in self.config.level_roles.items() if rid != target}
        have = {str(r.id) for r in member.roles}
        if target not in have:
            role = discord.Object(id=int(target))
            reason = f"Qunyou level {level}"
            await self._call(members_key(chat), lambda: member.add_roles(role, reason=reason))
        stale = [discord.Object(id=int(r)) for r in others & have]
        if stale:
            why = f"Qunyou level {level}"
            await self._call(members_key(chat), lambda: member.remove_roles(*stale, reason=why))

    async def grant_role(self, chat: ChatRef, user_id: str, role_id: str) -> None:
        """Give the member a role (a circle bound to it was joined). Discord's PUT is idempotent,
        and the cached member's roles may lag behind a grant moments ago, so it is always sent."""
        member = await self._member(chat, user_id)
        role = discord.Object(id=snowflake(role_id))
        await self._call(members_key(chat), lambda: member.add_roles(role, reason="Qunyou: joined a circle"))

    async def revoke_role(self, chat: ChatRef, user_id: str, role_id: str) -> None:
        """Take a role back (its circle was left); idempotent too, so always sent."""
        member = await self._member(chat, user_id)
        role = discord.Object(id=snowflake(role_id))
        await self._call(members_key(chat), lambda: member.remove_roles(role, reason="Qunyou: left a circle"))
