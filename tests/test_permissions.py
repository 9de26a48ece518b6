"""The permission matrix over every registered command, and the role ladder's sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.roles import Role
from handlers import FEATURES
from tests.harness import Harness, texts

DENIED = "抱歉，这个命令只有管理员可以使用。"
ROLES = ("member", "moderator", "admin", "owner")
COMMANDS = sorted(
    (c for f in FEATURES for c in f.router.commands if c.where != "private"), key=lambda c: c.name
)


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
async def test_every_command_refuses_exactly_below_its_role(tmp_path: Path, command: object) -> None:
    from bot.router import Command

    assert isinstance(command, Command)
    async with Harness(tmp_path) as h:
        for role_name in ROLES:
            role = Role.parse(role_name)
            user = f"u-{role_name}"
            replies = texts(await h.say("demo", user, f"/{command.name}", role=role_name))
            refused = DENIED in replies
            assert refused == (role < command.min_role), (command.name, role_name, replies)


async def test_superuser_from_config_and_overrides(tmp_path: Path) -> None:
    config = {"bot": {"superusers": {"console": ["root"]}}}
    async with Harness(tmp_path, config=config) as h:
        assert DENIED not in texts(await h.say("demo", "root", "/status"))
        await h.say("demo", "kim", "hi")
        assert texts(await h.say("demo", "kim", "/status")) == [DENIED]
        assert texts(await h.say("demo", "root", "/promote @kim admin")) == ["已将 @kim 设为管理员。"]
        assert DENIED not in texts(await h.say("demo", "kim", "/status"))
        # an admin cannot hand out a role above their own, and the grant survives a restart
        await h.say("demo", "lee", "hi")
        assert texts(await h.say("demo", "kim", "/promote @lee moderator")) == ["已将 @lee 设为管理。"]
        await h.restart()
        assert DENIED not in texts(await h.say("demo", "lee", "/status"))
        # the platform role counts too: the higher of grant and platform role wins
        assert DENIED not in texts(await h.say("demo", "pat", "/promote @lee admin", role="owner"))
