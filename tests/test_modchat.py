"""Moderator chats: one group's moderators can never disarm another group (issue: security).

Before the fix, A's owner (a plain member of B) typed ``/set mod_chat B`` in A, and from then on
B was not screened, B's owner lost /warn and /kw in B, and A's alerts and lists were posted in B.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.config import parse_settings
from bot.feature import Feature
from bot.port_registry import PortMissing
from bot.ports import AuditTrail
from bot.router import Router
from handlers import FEATURES
from tests.harness import Harness, texts
from tests.modchat_helpers import ask_code, link_mod_chat
from tests.moderation.helpers import actions, sent_to


async def _two_groups(h: Harness) -> None:
    """Group a (owner ann) and group b (owner bea), each with a red term; ann is a member of b."""
    await h.say("a", "ann", '/kw add red "加微信领红包" scam', role="owner")
    await h.say("b", "bea", '/kw add red "百万奖金" scam', role="owner")
    await h.say("b", "ann", "hello b")
    await h.say("b", "carl", "hi")


async def test_set_mod_chat_to_another_group_is_refused_and_b_keeps_its_defences(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _two_groups(h)
        out = texts(await h.say("a", "ann", "/set mod_chat b"))
        assert out[0].startswith("管理员群需要双方同意才能绑定")
        # B is still screened by its own lexicon: delete and mute on a red hit.
        hit = await h.say("b", "carl", "百万奖金 快来")
        assert actions(hit, "delete") and actions(hit, "mute")
        # B's owner keeps moderator rights in B.
        warned = sent_to(await h.say("b", "bea", "/warn @ann spam"), "b")
        assert any("警告" in t for t in warned)
        # A's lists never land in B.
        listed = await h.say("a", "ann", "/kw list")
        assert sent_to(listed, "b") == [] and sent_to(listed, "a-mods")


async def test_link_needs_both_sides_and_acts_on_the_linked_group(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _two_groups(h)
        await h.say("staff", "ann", "hi", role="admin")
        done = await link_mod_chat(h, "a", "staff", "ann")
        assert done[0].startswith("✅ 本群现在是 a (a) 的管理员群")
        # A is told in its own chat; its alerts now go to the linked chat.
        assert any("本群的管理员群现在是 staff (staff)" in t for t in done)
        hit = await h.say("a", "dan", "加 微 信 领 红 包")
        assert sent_to(hit, "staff") and sent_to(hit, "a-mods") == []
        # Lists asked from the linked chat are about A.
        listed = sent_to(await h.say("staff", "ann", "/kw list"), "staff")[0]
        assert "加微信领红包" in listed
        shown = texts(await h.say("a", "ann", "/modchat"))[0]
        assert "staff (staff)" in shown and "ann" in shown
        # The linked chat is still screened by its own rules: a plain member there is muted.
        await h.say("staff", "ann", "/set moderation.exempt_moderators on")
        assert actions(await h.say("staff", "eve", "来玩百家乐"), "mute")


async def test_accepting_a_code_needs_admin_here_and_moderator_there(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _two_groups(h)
        code = await ask_code(h, "a", "ann")
        # A member of A who is admin of their own chat cannot capture A's alerts with the code.
        out = texts(await h.say("evil", "eve", f"/modchat link {code}", role="owner"))
        assert out[0].startswith("只有 a (a) 的管理才能接受它的代码")
        # The code was consumed by that attempt: one use only.
        out = texts(await h.say("staff", "ann", f"/modchat link {code}", role="admin"))
        assert out[0].startswith("这个代码不存在、已使用或已过期")
        # A plain member of the target chat cannot accept, even with a fresh code.
        fresh = await ask_code(h, "a", "ann")
        out = texts(await h.say("b", "carl", f"/modchat link {fresh}"))
        assert out == ["抱歉，这个命令只有管理员可以使用。"]
        # A moderator (not admin) of A cannot ask for a code.
        out = texts(await h.say("a", "max", "/modchat link", role="moderator"))
        assert out == ["抱歉，只有群主或管理员可以绑定或解绑管理员群。"]


async def test_codes_expire_and_wrong_guesses_are_limited(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _two_groups(h)
        code = await ask_code(h, "a", "ann")
        await h.advance(11 * 60)
        out = texts(await h.say("staff", "ann", f"/modchat link {code}", role="admin"))
        assert out[0].startswith("这个代码不存在、已使用或已过期")
        for guess in ["AAAAAAAA", "x" * 300, "🙂", "22222222"]:
            out = texts(await h.say("staff", "ann", f"/modchat link {guess}"))
            assert out[0].startswith("这个代码不存在、已使用或已过期")
        out = texts(await h.say("staff", "ann", "/modchat link 33333333"))
        assert out[0].startswith("本群输错代码的次数过多")
        out = texts(await h.say("a", "ann", "/modchat link a b c"))
        assert out[0].startswith("用法：/modchat")


async def test_a_group_cannot_be_its_own_or_a_busy_moderator_chat(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _two_groups(h)
        code = await ask_code(h, "a", "ann")
        out = texts(await h.say("a", "ann", f"/modchat link {code}"))
        assert out[0].startswith("群不能做自己的管理员群")
        await link_mod_chat(h, "a", "staff", "ann")
        await h.say("c", "ann", "hi", role="owner")
        out = await link_mod_chat(h, "c", "staff", "ann")
        assert out[0].startswith("本群已经是 a (a) 的管理员群")


async def test_unlink_from_either_side_takes_effect_at_once_and_is_audited(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _two_groups(h)
        await link_mod_chat(h, "a", "staff", "ann")
        out = await h.say("staff", "ann", "/modchat unlink")
        assert sent_to(out, "staff") == ["已解除管理员群绑定。"]
        assert sent_to(out, "a") == ["staff (staff) 不再是本群的管理员群；告警将重新直接发给管理。"]
        hit = await h.say("a", "dan", "加微信领红包")
        assert sent_to(hit, "staff") == [] and sent_to(hit, "a-mods")
        # /kw typed in the former moderator chat now acts on that chat itself.
        assert "加微信领红包" not in "".join(texts(await h.say("staff", "ann", "/kw list")))
        await link_mod_chat(h, "a", "staff", "ann")
        out = await h.say("a", "ann", "/modchat unlink")
        assert sent_to(out, "staff") == ["本群不再是 a (a) 的管理员群。"]
        log = "".join(texts(await h.say("a", "ann", "/modlog")))
        for action in ("modchat.code", "modchat.link", "modchat.unlink"):
            assert action in log
        assert texts(await h.say("a", "ann", "/modchat unlink"))[0].startswith("这里没有绑定管理员群")
        assert texts(await h.say("a", "ann", "/modchat")) == [
            "尚未绑定管理员群；告警发到平台默认位置 a-mods。管理员可发送 /modchat link 绑定其他群。"
        ]


async def test_guarded_settings_need_admin_and_are_audited_and_announced(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "hi", role="moderator")
        assert texts(await h.say("demo", "max", "/set stats.public on")) == [
            "抱歉，只有群主或管理员可以修改这个设置。"
        ]
        out = await h.say("demo", "olga", "/set stats.public on", role="owner")
        assert sent_to(out, "demo") == ["已将 stats.public 设为 on。"]
        (notice,) = sent_to(out, "demo-mods")
        assert "stats.public" in notice and "olga" in notice
        assert "stats.public=on" in "".join(texts(await h.say("demo", "olga", "/modlog")))
        # An ordinary setting stays a moderator's and is not announced.
        out = await h.say("demo", "max", "/set moderation.digest_hour 20")
        assert sent_to(out, "demo-mods") == []


async def test_a_missing_port_stops_the_start_naming_feature_and_port(tmp_path: Path) -> None:
    needy = Feature(name="needy", router=Router("needy"), requires=(AuditTrail,))
    settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}})
    without_moderation = [f for f in FEATURES if f.name not in ("moderation", "modchat", "community")]
    app = App(settings, adapters=[], features=[*without_moderation, needy])
    with pytest.raises(PortMissing, match="'needy' requires the port AuditTrail"):
        await app.start()
    assert app.db is not None
    await app.db.close()
