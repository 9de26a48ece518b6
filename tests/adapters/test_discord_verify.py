"""Discord and join verification (issue 15): the start-up permission check naming what is
missing, the member role granted on passing, and a restriction Discord can carry (a timeout)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.adapters.test_discord import CHAT, START, make_rig
from tests.fakes import discord_api as fx

KICK_BAN = (1 << 1) | (1 << 2)
MANAGE_ROLES = 1 << 28
VERIFIED_ROLE = "700000000000000042"


async def test_the_permission_check_names_what_is_missing_per_server(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch, verified_role=VERIFIED_ROLE)
    try:
        guild = r.adapter.client.get_guild(fx.GUILD_ID)
        assert guild is not None
        # The fake server gives the bot Timeout Members and Manage Messages (and Manage Server).
        assert r.adapter.check_permissions(guild) == ["kick_members", "ban_members", "manage_roles"]
        (warning,) = [w for w in r.adapter.warnings() if "Test Server" in w]
        assert "Kick Members, Ban Members, Manage Roles" in warning
        # The server as GUILD_CREATE delivers it again, now with every permission: the warning goes.
        data = fx.guild()
        data["roles"].append(fx.role(900, "Verifier", KICK_BAN | MANAGE_ROLES, 4))
        data["members"][0]["roles"].append("900")
        fx.FakeDiscord.feed(r.adapter.client, "GUILD_CREATE", data)
        await r.settle()
        assert not [w for w in r.adapter.warnings() if "Test Server" in w]
    finally:
        await r.adapter.stop()


async def test_without_a_verified_role_manage_roles_is_not_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch)
    try:
        guild = r.adapter.client.get_guild(fx.GUILD_ID)
        assert guild is not None
        assert r.adapter.check_permissions(guild) == ["kick_members", "ban_members"]
    finally:
        await r.adapter.stop()


async def test_passing_grants_the_verified_role_once_and_the_timeout_is_lifted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = await make_rig(monkeypatch, verified_role=VERIFIED_ROLE)
    try:
        user = str(fx.ALICE_ID)
        await r.adapter.mute(CHAT, user, START + timedelta(minutes=8))
        (timeout,) = r.fake.find("PATCH", rf"/guilds/{fx.GUILD_ID}/members/{fx.ALICE_ID}")
        assert timeout.json["communication_disabled_until"]
        await r.adapter.unmute(CHAT, user)
        await r.adapter.verified(CHAT, user)
        (grant,) = r.fake.find("PUT", r".*/roles/\d+")
        assert grant.path == f"/guilds/{fx.GUILD_ID}/members/{fx.ALICE_ID}/roles/{VERIFIED_ROLE}"
        lifted = r.fake.find("PATCH", rf"/guilds/{fx.GUILD_ID}/members/{fx.ALICE_ID}")[-1]
        assert lifted.json["communication_disabled_until"] is None
    finally:
        await r.adapter.stop()


def test_verified_role_must_be_a_role_id() -> None:
    from adapters.discord import DiscordConfig

    assert DiscordConfig(verified_role=" 123 ").verified_role == "123"
    with pytest.raises(ValueError, match="verified_role"):
        DiscordConfig(verified_role="@Members")
