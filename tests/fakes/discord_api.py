"""Fake Discord for tests: gateway payload builders and a fake REST/webhook transport.

This is the ONLY module that touches discord.py's private names. They are listed in
``PRIVATE_NAMES`` and checked by ``check_private_names()`` (run by the canary test), so an
upgrade of discord.py that moves them fails with one clear message instead of a dozen odd ones.

- REST: every ``HTTPClient`` call funnels through ``client.http.request(route, **kwargs)``;
  ``FakeDiscord.install(client)`` replaces it on the instance.
- Interaction responses and followups go through discord.py's webhook adapter instead
  (``discord.webhook.async_.async_context``, a ContextVar holding an ``AsyncWebhookAdapter``);
  ``install`` points its ``request`` at the same fake.
- Gateway: ``client.connect`` is replaced by a coroutine that just waits (no websocket); inbound
  events are fed through discord.py's own parsers, ``client._connection.parsers[EVENT](payload)``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import discord
import discord.http
import discord.state
import discord.webhook.async_ as webhook_async

BOT_ID = 900000000000000001
APP_ID = BOT_ID
OWNER_ID = 100000000000000001
GUILD_ID = 300000000000000001
CHANNEL_ID = 400000000000000001
MODS_CHANNEL_ID = 400000000000000002
ALICE_ID = 200000000000000001
BOB_ID = 200000000000000002
MOD_ID = 200000000000000003
#: A member Discord knows but the gateway cache does not (so lookups must go to REST).
CAROL_ID = 200000000000000004
DM_CHANNEL_ID = 500000000000000001
TIMESTAMP = "2026-03-02T01:00:00+00:00"

#: Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
MODERATE_MEMBERS = 1 << 40
EVERYONE_PERMS = (1 << 10) | (1 << 11) | (1 << 16)  # view channel, send messages, read history

#: discord.py internals this module relies on, as (object, attribute) descriptions.
PRIVATE_NAMES = (
    "discord.Client._connection",
    "discord.state.ConnectionState.parsers",
    "discord.state.ConnectionState._add_guild_from_data",
    "discord.webhook.async_.async_context",
    "discord.webhook.async_.AsyncWebhookAdapter.request",
    "discord.http.HTTPClient.request",
    "discord.http.Route.BASE",
)
PARSERS = (
    "MESSAGE_CREATE",
    "MESSAGE_UPDATE",
    "GUILD_MEMBER_ADD",
    "GUILD_MEMBER_REMOVE",
    "INTERACTION_CREATE",
)


def check_private_names() -> None:
    """Fail with one clear message when a private discord.py name these fakes use has moved."""
    missing: list[str] = []
    client = discord.Client(intents=discord.Intents.none())
    state = getattr(client, "_connection", None)
    if state is None:
        missing.append("discord.Client._connection")
    else:
        parsers = getattr(state, "parsers", None)
        if not isinstance(parsers, dict):
            missing.append("discord.state.ConnectionState.parsers")
        else:
            missing.extend(f"ConnectionState.parsers[{name!r}]" for name in PARSERS if name not in parsers)
        if not callable(getattr(state, "_add_guild_from_data", None)):
            missing.append("discord.state.ConnectionState._add_guild_from_data")
    context = getattr(webhook_async, "async_context", None)
    if context is None or not callable(getattr(context.get(), "request", None)):
        missing.append("discord.webhook.async_.async_context / AsyncWebhookAdapter.request")
    if not callable(getattr(discord.http.HTTPClient, "request", None)):
        missing.append("discord.http.HTTPClient.request")
    if not isinstance(getattr(discord.http.Route, "BASE", None), str):
        missing.append("discord.http.Route.BASE")
    if missing:
        raise AssertionError(
            f"discord.py {discord.__version__} moved private names tests/fakes/discord_api.py relies on: "
            + ", ".join(missing)
            + ". Update that module (only it) for the new version, or pin discord.py below it."
        )


# ---------------------------------------------------------------- payload builders

_ids = itertools.count(600000000000000001)


def next_id() -> int:
    """A fresh snowflake for messages and interactions."""
    return next(_ids)


def user(uid: int, name: str, *, bot: bool = False, global_name: str | None = None) -> dict[str, Any]:
    """A user object; discord.py needs username, discriminator, global_name and avatar."""
    return {
        "id": str(uid),
        "username": name,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "bot": bot,
    }


def member(
    uid: int, name: str, *, roles: list[int] | None = None, nick: str | None = None, bot: bool = False
) -> dict[str, Any]:
    """A guild member object; discord.py needs ``flags``."""
    return {
        "user": user(uid, name, bot=bot),
        "nick": nick,
        "roles": [str(r) for r in roles or []],
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "avatar": None,
        "communication_disabled_until": None,
    }


def role(rid: int, name: str, permissions: int, position: int = 1) -> dict[str, Any]:
    """A role object."""
    return {
        "id": str(rid),
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def text_channel(cid: int, name: str, position: int = 0) -> dict[str, Any]:
    """A guild text channel."""
    return {
        "id": str(cid),
        "type": 0,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
    }


MOD_ROLE_ID = 700000000000000001
ADMIN_ROLE_ID = 700000000000000002
LEVEL_ROLE_ID = 700000000000000005


def guild(*, members: list[dict[str, Any]] | None = None, system_channel: bool = True) -> dict[str, Any]:
    """The test server: #general, #mods, an owner, a moderator role and an admin role."""
    return {
        "id": str(GUILD_ID),
        "name": "Test Server",
        "icon": None,
        "owner_id": str(OWNER_ID),
        "roles": [
            role(GUILD_ID, "@everyone", EVERYONE_PERMS, 0),
            role(MOD_ROLE_ID, "Mods", MODERATE_MEMBERS | MANAGE_MESSAGES, 2),
            role(ADMIN_ROLE_ID, "Admins", MANAGE_GUILD, 3),
            role(LEVEL_ROLE_ID, "Level 5", 0, 1),
        ],
        "channels": [text_channel(CHANNEL_ID, "general", 0), text_channel(MODS_CHANNEL_ID, "mods", 1)],
        "members": members
        if members is not None
        else [
            member(BOT_ID, "qunyou", bot=True, roles=[ADMIN_ROLE_ID, MOD_ROLE_ID]),
            member(OWNER_ID, "owner"),
            member(ALICE_ID, "alice"),
            member(BOB_ID, "bob"),
            member(MOD_ID, "mod", roles=[MOD_ROLE_ID]),
        ],
        "threads": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 5,
        "large": False,
        "system_channel_id": str(CHANNEL_ID) if system_channel else None,
        "preferred_locale": "zh-CN",
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "nsfw_level": 0,
        "unavailable": False,
    }


def message(
    content: str,
    *,
    author: dict[str, Any],
    mid: int | None = None,
    channel_id: int = CHANNEL_ID,
    guild_id: int | None = GUILD_ID,
    mentions: list[dict[str, Any]] | None = None,
    reply_to: dict[str, Any] | None = None,
    edited: str | None = None,
    author_member: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A MESSAGE_CREATE/UPDATE payload (or a REST message object)."""
    data: dict[str, Any] = {
        "id": str(mid or next_id()),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": edited,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 19 if reply_to else 0,
        "flags": 0,
        "components": [],
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        if author_member is not None:
            data["member"] = author_member
    if reply_to is not None:
        data["message_reference"] = {
            "message_id": reply_to["id"],
            "channel_id": reply_to["channel_id"],
            "guild_id": str(guild_id) if guild_id else None,
        }
        data["referenced_message"] = reply_to
    return data


def _interaction_base(
    kind: int, who: dict[str, Any], *, guild_id: int | None, channel_id: int, locale: str
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(next_id()),
        "application_id": str(APP_ID),
        "type": kind,
        "token": "interaction-token-" + str(next_id()),
        "version": 1,
        "locale": locale,
        "app_permissions": str(ADMINISTRATOR),
        "attachment_size_limit": 8 * 1024 * 1024,
        "entitlements": [],
        "authorizing_integration_owners": {},
        "channel": {"id": str(channel_id), "type": 0 if guild_id else 1},
        "channel_id": str(channel_id),
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        data["guild_locale"] = "zh-CN"
        member_data = dict(who)
        member_data["permissions"] = str(EVERYONE_PERMS)
        data["member"] = member_data
    else:
        data["user"] = who["user"] if "user" in who else who
    return data


def slash(
    name: str,
    who: dict[str, Any],
    *,
    args: str | None = None,
    options: list[dict[str, Any]] | None = None,
    guild_id: int | None = GUILD_ID,
    channel_id: int = CHANNEL_ID,
    locale: str = "en-US",
) -> dict[str, Any]:
    """An INTERACTION_CREATE for the slash command ``/name``: with the free-text ``args`` of a
    command made of subcommands, or the typed ``options`` of one with declared arguments."""
    data = _interaction_base(2, who, guild_id=guild_id, channel_id=channel_id, locale=locale)
    command: dict[str, Any] = {"id": str(next_id()), "name": name, "type": 1}
    if args is not None:
        command["options"] = [{"name": "args", "type": 3, "value": args}]
    if options is not None:
        command["options"] = options
    if guild_id is not None:
        command["guild_id"] = str(guild_id)
    data["data"] = command
    return data


def message_menu(
    name: str,
    who: dict[str, Any],
    target: dict[str, Any],
    *,
    guild_id: int | None = GUILD_ID,
    channel_id: int = CHANNEL_ID,
    locale: str = "en-US",
) -> dict[str, Any]:
    """An INTERACTION_CREATE for the message context-menu command ``name`` used on ``target``."""
    data = _interaction_base(2, who, guild_id=guild_id, channel_id=channel_id, locale=locale)
    data["data"] = {
        "id": str(next_id()),
        "name": name,
        "type": 3,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }
    return data


def button_press(
    custom_id: str,
    who: dict[str, Any],
    *,
    message_data: dict[str, Any],
    guild_id: int | None = GUILD_ID,
    channel_id: int = CHANNEL_ID,
) -> dict[str, Any]:
    """An INTERACTION_CREATE for a press on a button under ``message_data``."""
    data = _interaction_base(3, who, guild_id=guild_id, channel_id=channel_id, locale="en-US")
    data["data"] = {"custom_id": custom_id, "component_type": 2}
    data["message"] = message_data
    return data


def app_info(*, message_content: bool = True, members: bool = True) -> dict[str, Any]:
    """GET /oauth2/applications/@me, with the privileged-intent flags the portal would report."""
    flags = 0
    if members:
        flags |= 1 << 15  # GATEWAY_GUILD_MEMBERS
    if message_content:
        flags |= 1 << 19  # GATEWAY_MESSAGE_CONTENT
    return {
        "id": str(APP_ID),
        "name": "Qunyou",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": user(OWNER_ID, "owner"),
        "verify_key": "0" * 64,
        "flags": flags,
        "interactions_endpoint_url": None,
    }


# ---------------------------------------------------------------- errors


def _response(status: int, reason: str) -> Any:
    """The two attributes discord.py's HTTP errors read from a response (typed ``Any``: since
    2.7 discord.py annotates it as aiohttp's ``ClientResponse``, which a fake need not be)."""
    return SimpleNamespace(status=status, reason=reason)


def forbidden(code: int = 50013, text: str = "Missing Permissions") -> discord.Forbidden:
    """What discord.py raises for a 403 with Discord's error body."""
    return discord.Forbidden(_response(403, "Forbidden"), {"code": code, "message": text})


def not_found(code: int = 10008, text: str = "Unknown Message") -> discord.NotFound:
    """What discord.py raises for a 404 with Discord's error body."""
    return discord.NotFound(_response(404, "Not Found"), {"code": code, "message": text})


# ---------------------------------------------------------------- the fake transport


def _upload(file: Any) -> bytes:
    """The bytes of a ``discord.File`` about to be uploaded (read, then rewound for the sender)."""
    fp = getattr(file, "fp", None)
    if fp is None:
        return b""
    start = fp.tell()
    data = fp.read()
    fp.seek(start)
    return bytes(data)


def attachment(url: str, filename: str = "photo.png", content_type: str = "image/png") -> dict[str, Any]:
    """An attachment object of a MESSAGE_CREATE payload."""
    return {
        "id": str(next_id()),
        "filename": filename,
        "size": 1,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
    }


def poll_object(create: dict[str, Any]) -> dict[str, Any]:
    """The poll Discord answers for a poll create request: answer ids from 1, in order, and an
    expiry ``duration`` hours after the message's timestamp."""
    expiry = datetime.fromisoformat(TIMESTAMP) + timedelta(hours=float(create.get("duration", 24)))
    return {
        "question": create["question"],
        "answers": [
            {"answer_id": i, "poll_media": a["poll_media"]} for i, a in enumerate(create["answers"], 1)
        ],
        "expiry": expiry.isoformat(),
        "allow_multiselect": bool(create.get("allow_multiselect", False)),
        "layout_type": create.get("layout_type", 1),
    }


def poll_vote(
    message_id: int, user_id: int, answer_id: int, *, channel_id: int = CHANNEL_ID
) -> dict[str, Any]:
    """A MESSAGE_POLL_VOTE_ADD / _REMOVE payload."""
    return {
        "user_id": str(user_id),
        "channel_id": str(channel_id),
        "message_id": str(message_id),
        "guild_id": str(GUILD_ID),
        "answer_id": answer_id,
    }


@dataclass
class Call:
    """One REST or webhook request the client made."""

    method: str
    path: str
    json: Any
    reason: str | None
    files: list[str] = field(default_factory=list)
    #: The uploaded files' bytes, in the order of ``files``.
    uploads: list[bytes] = field(default_factory=list)
    #: What the fake answered (a posted message's payload carries its new id).
    response: Any = None

    @property
    def content(self) -> str | None:
        """The message text sent, when the request carried one."""
        if isinstance(self.json, dict):
            return self.json.get("content")
        return None


Responder = Callable[["FakeDiscord", Call, re.Match[str]], Any]


class FakeDiscord:
    """Answers discord.py's REST and webhook requests and records them, with no network."""

    def __init__(self, *, message_content: bool = True, members: bool = True) -> None:
        self.calls: list[Call] = []
        self.app = app_info(message_content=message_content, members=members)
        self.failures: list[tuple[str, re.Pattern[str], Exception]] = []
        self.members: dict[int, dict[str, Any]] = {int(m["user"]["id"]): m for m in guild()["members"]}
        self.members[CAROL_ID] = member(CAROL_ID, "carol")
        self.clients: list[discord.Client] = []
        #: Raised by the fake gateway on connect (e.g. ``discord.PrivilegedIntentsRequired(None)``).
        self.gateway_error: Exception | None = None
        self._gateway_stop: asyncio.Event | None = None
        #: Attachments members sent, by CDN URL (``attachment``): what ``get_from_cdn`` gives.
        self.cdn: dict[str, bytes] = {}
        self._routes: list[tuple[str, re.Pattern[str], Responder]] = [
            ("GET", re.compile(r"/users/@me"), lambda f, c, m: user(BOT_ID, "qunyou", bot=True)),
            ("GET", re.compile(r"/oauth2/applications/@me"), lambda f, c, m: f.app),
            ("POST", re.compile(r"/channels/(\d+)/messages"), FakeDiscord._created),
            ("POST", re.compile(r"/channels/(\d+)/polls/(\d+)/expire"), FakeDiscord._expired),
            ("PATCH", re.compile(r"/channels/(\d+)/messages/(\d+)"), FakeDiscord._edited),
            ("DELETE", re.compile(r"/channels/(\d+)/messages/(\d+)"), lambda f, c, m: None),
            ("GET", re.compile(r"/guilds/(\d+)/members/(\d+)"), FakeDiscord._member),
            ("PATCH", re.compile(r"/guilds/(\d+)/members/(\d+)"), FakeDiscord._member),
            ("DELETE", re.compile(r"/guilds/(\d+)/members/(\d+)"), lambda f, c, m: None),
            ("PUT", re.compile(r"/guilds/(\d+)/bans/(\d+)"), lambda f, c, m: None),
            ("DELETE", re.compile(r"/guilds/(\d+)/bans/(\d+)"), lambda f, c, m: None),
            ("PUT", re.compile(r"/guilds/(\d+)/members/(\d+)/roles/(\d+)"), lambda f, c, m: None),
            ("DELETE", re.compile(r"/guilds/(\d+)/members/(\d+)/roles/(\d+)"), lambda f, c, m: None),
            ("GET", re.compile(r"/users/(\d+)"), lambda f, c, m: user(int(m.group(1)), "user" + m.group(1))),
            ("POST", re.compile(r"/users/@me/channels"), FakeDiscord._dm),
            ("PUT", re.compile(r"/applications/(\d+)(/guilds/\d+)?/commands"), FakeDiscord._commands),
            ("POST", re.compile(r"/interactions/(\d+)/([^/]+)/callback"), FakeDiscord._callback),
            ("POST", re.compile(r"/webhooks/(\d+)/([^/]+)"), FakeDiscord._created),
            ("PATCH", re.compile(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"), FakeDiscord._edited),
            ("DELETE", re.compile(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"), lambda f, c, m: None),
        ]

    # -- responders

    def _created(self, call: Call, match: re.Match[str]) -> dict[str, Any]:
        channel = int(match.group(1)) if call.path.startswith("/channels/") else CHANNEL_ID
        body = call.json if isinstance(call.json, dict) else {}
        data = message(body.get("content") or "", author=user(BOT_ID, "qunyou", bot=True), channel_id=channel)
        if isinstance(body.get("poll"), dict):
            data["poll"] = poll_object(body["poll"])
        return data

    def _expired(self, call: Call, match: re.Match[str]) -> dict[str, Any]:
        data = message("", author=user(BOT_ID, "qunyou", bot=True), mid=int(match.group(2)))
        data["channel_id"] = match.group(1)
        return data

    def _edited(self, call: Call, match: re.Match[str]) -> dict[str, Any]:
        body = call.json if isinstance(call.json, dict) else {}
        mid = match.group(match.lastindex or 1)
        return message(
            body.get("content") or "",
            author=user(BOT_ID, "qunyou", bot=True),
            mid=int(mid) if mid.isdigit() else None,
            edited=TIMESTAMP,
        )

    def _member(self, call: Call, match: re.Match[str]) -> dict[str, Any]:
        uid = int(match.group(2))
        found = self.members.get(uid)
        if found is None:
            raise not_found(10007, "Unknown Member")
        return found

    def _dm(self, call: Call, match: re.Match[str]) -> dict[str, Any]:
        recipient = int(call.json["recipient_id"])
        return {
            "id": str(DM_CHANNEL_ID),
            "type": 1,
            "recipients": [user(recipient, f"user{recipient}")],
            "last_message_id": None,
        }

    def _commands(self, call: Call, match: re.Match[str]) -> list[dict[str, Any]]:
        out = []
        for command in call.json or []:
            item = dict(command)
            item.setdefault("description", "")  # Discord answers "" for context-menu commands
            item.update(
                {
                    "id": str(next_id()),
                    "application_id": str(APP_ID),
                    "version": "1",
                    "default_member_permissions": None,
                    "dm_permission": True,
                    "nsfw": False,
                }
            )
            out.append(item)
        return out

    def _callback(self, call: Call, match: re.Match[str]) -> dict[str, Any]:
        return {"interaction": {"id": match.group(1), "type": 2}}

    # -- transport

    def fail(self, method: str, path_regex: str, exc: Exception) -> None:
        """Make the next requests matching ``method`` and ``path_regex`` raise ``exc``."""
        self.failures.append((method, re.compile(path_regex), exc))

    def _answer(self, method: str, url: str, body: Any, reason: str | None, files: Any) -> Any:
        path = urlsplit(url).path
        path = re.sub(r"^/api/v\d+", "", path)
        names = [getattr(f, "filename", "?") for f in files or []]
        call = Call(method, path, body, reason, names, [_upload(f) for f in files or []])
        self.calls.append(call)
        for fail_method, pattern, exc in self.failures:
            if fail_method == method and pattern.fullmatch(path):
                raise exc
        for route_method, pattern, responder in self._routes:
            match = pattern.fullmatch(path)
            if route_method == method and match:
                call.response = responder(self, call, match)
                return call.response
        raise AssertionError(f"FakeDiscord has no answer for {method} {path}")

    async def request(self, route: Any, *, files: Any = None, form: Any = None, **kwargs: Any) -> Any:
        """Stands in for ``HTTPClient.request``."""
        body = kwargs.get("json")
        if body is None and form:
            for part in form:
                if part.get("name") == "payload_json":
                    body = json.loads(part["value"])
        return self._answer(route.method, route.url, body, kwargs.get("reason"), files)

    async def webhook_request(
        self,
        route: Any,
        session: Any = None,
        *,
        payload: Any = None,
        multipart: Any = None,
        files: Any = None,
        reason: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Stands in for ``AsyncWebhookAdapter.request`` (interaction responses, followups)."""
        body = payload
        if body is None and multipart:
            for part in multipart:
                if part.get("name") == "payload_json":
                    body = json.loads(part["value"])
        return self._answer(route.method, route.url, body, reason, files)

    async def get_from_cdn(self, url: str) -> bytes:
        """Stands in for ``HTTPClient.get_from_cdn``: an attachment's bytes, or 404."""
        self.calls.append(Call("GET", url, None, None))
        if url not in self.cdn:
            raise not_found(0, "asset not found")
        return self.cdn[url]

    async def _connect(self, client: discord.Client, *, reconnect: bool = True) -> None:
        # The gateway: nothing arrives on its own; tests feed events through the parsers. The
        # session is up at once, announced as discord.py does on READY.
        if self.gateway_error is not None:
            raise self.gateway_error
        self._gateway_stop = asyncio.Event()
        self._session(client, "connect")
        await self._gateway_stop.wait()

    @staticmethod
    def _session(client: discord.Client, event: str) -> None:
        """Dispatch ``event`` for every shard the client runs, as discord.py's own loop does."""
        client.dispatch(event)
        if isinstance(client, discord.AutoShardedClient):
            for shard_id in client.shard_ids or [0]:
                client.dispatch(f"shard_{event}", shard_id)

    def drop_gateway(self, client: discord.Client, shard_id: int | None = None) -> None:
        """The websocket is lost (Discord closed it, the network dropped): what discord.py's
        ``connect`` loop dispatches before it tries to reconnect (``disconnect``, and
        ``shard_disconnect`` for that shard on a sharded client)."""
        client.dispatch("disconnect")
        if shard_id is not None:
            client.dispatch("shard_disconnect", shard_id)

    def resume_gateway(self, client: discord.Client, shard_id: int | None = None) -> None:
        """The session comes back with RESUMED, through discord.py's own parser."""
        payload: dict[str, Any] = {} if shard_id is None else {"__shard_id__": shard_id}
        client._connection.parsers["RESUMED"](payload)

    def install(self, client: discord.Client) -> None:
        """Route ``client``'s REST and gateway to this fake (call before ``login``)."""
        client.http.request = self.request  # type: ignore[method-assign]
        client.http.get_from_cdn = self.get_from_cdn  # type: ignore[method-assign]
        client.connect = functools.partial(self._connect, client)  # type: ignore[method-assign]
        self.clients.append(client)

    def install_webhooks(self, monkeypatch: Any) -> None:
        """Route interaction responses and followups (a process-wide adapter) to this fake."""
        monkeypatch.setattr(webhook_async.async_context.get(), "request", self.webhook_request)

    # -- the gateway side

    @staticmethod
    def add_guild(client: discord.Client, data: dict[str, Any] | None = None) -> discord.Guild:
        """Make the client know the test server, as GUILD_CREATE after READY would."""
        return client._connection._add_guild_from_data(data or guild())  # type: ignore[arg-type]

    @staticmethod
    def feed(client: discord.Client, event: str, payload: dict[str, Any]) -> None:
        """Deliver one gateway event through discord.py's own parser for it."""
        client._connection.parsers[event](payload)

    # -- assertions

    def find(self, method: str, path_regex: str) -> list[Call]:
        """The recorded calls with this method whose path matches ``path_regex``."""
        pattern = re.compile(path_regex)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    def sent(self) -> list[Call]:
        """Messages posted to channels or as interaction followups."""
        posts = (r"/channels/\d+/messages", r"/webhooks/\d+/[^/]+")
        return [c for c in self.calls if c.method == "POST" and any(re.fullmatch(p, c.path) for p in posts)]


# ---------------------------------------------------------------- a loopback Discord (wire tests)


class LoopbackDiscord:
    """A tiny Discord REST server on 127.0.0.1, for the few tests that run discord.py's real HTTP
    client (aiohttp, status mapping, its own 429 handling) end to end.

    ``discord.http.Route.BASE`` (a private class attribute) is pointed at it while it runs.
    Discord's JSON must be served as exactly ``application/json``: with ``; charset=utf-8``
    discord.py treats the body as text.
    """

    def __init__(self) -> None:
        from aiohttp import web

        self._web = web
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: path regex → list of (status, body, extra headers) served in order, last one repeats.
        self.script: dict[str, list[tuple[int, Any, dict[str, str]]]] = {}
        self._runner: Any = None
        self._old_base = discord.http.Route.BASE

    def answer(self, path_regex: str, *responses: tuple[int, Any, dict[str, str]]) -> None:
        """Serve ``responses`` in turn for requests whose path matches ``path_regex``."""
        self.script[path_regex] = list(responses)

    async def _handle(self, request: Any) -> Any:
        path = re.sub(r"^/api/v\d+", "", request.path)
        self.requests.append((request.method, path, dict(request.headers)))
        status: int = 200
        body: Any = {}
        headers: dict[str, str] = {}
        if path == "/users/@me":
            body = user(BOT_ID, "qunyou", bot=True)
        elif path == "/oauth2/applications/@me":
            body = app_info()
        elif path == f"/guilds/{GUILD_ID}":
            body = guild()
        for pattern, responses in self.script.items():
            if re.fullmatch(pattern, path):
                status, body, headers = responses.pop(0) if len(responses) > 1 else responses[0]
                break
        raw = b"" if body is None else json.dumps(body).encode()
        return self._web.Response(
            status=status, body=raw, headers={"Content-Type": "application/json", **headers}
        )

    async def __aenter__(self) -> LoopbackDiscord:
        app = self._web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = self._web.AppRunner(app)
        await self._runner.setup()
        site = self._web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
        return self

    async def __aexit__(self, *exc: object) -> None:
        discord.http.Route.BASE = self._old_base
        if self._runner is not None:
            await self._runner.cleanup()
