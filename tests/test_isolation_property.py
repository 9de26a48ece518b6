"""Property: nothing done in group A changes group B, unless B's own admins consented to a link.

Random sequences of commands (every registered command, every ``/set`` key with hostile values),
forged button presses and replies to B's messages, by members of every rank in A (who are plain
members of B), are run through the real core on each engine. Afterwards B's settings, lexicon,
roles, links and group row are unchanged; nothing was posted, deleted or sanctioned in B or B's
moderator chat while A was busy; and B still screens its members and obeys its own moderators.

``QUNYOU_ISOLATION_EXAMPLES`` raises the number of sequences per engine (CI runs a small,
derandomised batch so a failure reproduces).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from handlers import FEATURES
from storage.moderation import ModerationRepos
from tests.conftest import POSTGRES_ENV, _create_pg_database, _drop_pg_database
from tests.harness import Harness
from tests.moderation.helpers import actions, sent_to

EXAMPLES = int(os.environ.get("QUNYOU_ISOLATION_EXAMPLES", "8"))

A, B = "alpha", "beta"
#: A's people and their rank in A; in B each of them is a plain member.
ACTORS = {"ann": "owner", "adam": "admin", "amy": "moderator", "art": "member"}
COMMANDS = sorted({c.name for f in FEATURES for c in f.router.commands})
BUTTON_PREFIXES = sorted({b.prefix for f in FEATURES for b in f.router.buttons})
SETTING_KEYS = sorted(
    {f.settings.key_of(name) for f in FEATURES if f.settings for name in f.settings.model_fields}
    | {"language", "timezone"}
)
#: Values aimed at B: its ids, its moderator chat, its people, and what no row can hold.
HOSTILE = [
    B,
    f"{B}-mods",
    A,
    f"{A}-mods",
    "never-seen-chat",
    "-1001234567890",
    str(2**63),
    "-1",
    "0",
    "1",
    "2",
    "@bea",
    "@carl",
    "@bob",
    "on",
    "off",
    "red",
    "UTC",
    "Asia",
    "百万奖金",
    "x" * 300,
    "\u202e",
    "",
]


@dataclass(frozen=True)
class Step:
    """One thing an A member does in A."""

    actor: str
    text: str | None = None
    button: str | None = None
    reply_to_b: bool = False


_words = st.lists(st.sampled_from(HOSTILE), max_size=3).map(" ".join)
_command = st.builds(lambda name, rest: f"/{name} {rest}".strip(), st.sampled_from(COMMANDS), _words)
_setting = st.builds(
    lambda key, value: f"/set {key} {value}".strip(), st.sampled_from(SETTING_KEYS), st.sampled_from(HOSTILE)
)
_modchat = st.sampled_from(["/modchat link", "/modchat unlink", "/modchat", f"/modchat link {B}"])
_data = st.builds(
    lambda p, rest: p + rest, st.sampled_from(BUTTON_PREFIXES), _words.map(lambda w: w.replace(" ", ":"))
)
_actor = st.sampled_from(sorted(ACTORS))
STEPS = st.one_of(
    st.builds(
        lambda a, t, r: Step(a, text=t, reply_to_b=r), _actor, _command | _setting | _modchat, st.booleans()
    ),
    st.builds(lambda a, d: Step(a, button=d), _actor, _data),
)


async def _b_state(h: Harness) -> dict[str, Any]:
    """Everything that says how B is served, read through the repositories."""
    services = h.services
    group = await services.groups.find("console", B)
    assert group is not None
    assert services.alerts is not None
    repo = ModerationRepos(services.db)
    return {
        "group": group,
        "settings": dict(await services.settings.overrides(group.id)),
        "terms": sorted((t.key, t.level, t.mode) for t in await repo.lexicon.terms(group.id)),
        "allow": sorted(a.key for a in await repo.lexicon.allow_terms(group.id)),
        "roles": dict(await services.permissions.overrides(group.id)),
        "link": await services.alerts.links.link_of(group.id),
        "serves": await services.alerts.links.link_served_by(group.id),
        "mod_chat": await services.alerts.moderator_chat(group),
    }


async def _run(url: str, steps: list[Step]) -> None:
    async with Harness(Path(tempfile.mkdtemp()), db_url=url) as h:
        await h.say(B, "bea", '/kw add red "百万奖金" scam', role="owner")
        await h.say(B, "bob", "hello", role="moderator")
        b_messages = [(await h.say(B, "carl", "hi carl here"))[0]["id"]]
        for actor, rank in ACTORS.items():
            b_messages.append((await h.say(B, actor, f"hi from {actor}"))[0]["id"])
            await h.say(A, actor, "hello", role=rank)
        await h.say(A, "ann", '/kw add red "加微信领红包" scam')
        await h.flush()  # B's own batched welcome badges go out before A starts
        h.adapter.take()
        before = await _b_state(h)
        for n, step in enumerate(steps):
            if step.button is not None:
                records = await h.press(A, step.actor, f"b{n}", step.button)
            else:
                assert step.text is not None
                extra = {"reply_to": b_messages[n % len(b_messages)]} if step.reply_to_b else {}
                records = await h.say(A, step.actor, step.text, **extra)
            touched = [r for r in records if r.get("chat") in (B, f"{B}-mods")]
            assert touched == [], (step, touched)
        await h.flush()
        assert await _b_state(h) == before
        # B still screens its members and obeys its own moderators.
        hit = await h.say(B, "carl", "百万奖金 快来")
        assert actions(hit, "delete") and actions(hit, "mute"), hit
        warned = sent_to(await h.say(B, "bob", "/warn @art spam"), B)
        assert any("警告" in t for t in warned), warned
        listed = sent_to(await h.say(B, "bea", "/kw list"), f"{B}-mods")
        assert listed and "百万奖金" in listed[0] and "加微信领红包" not in listed[0]


def _engines() -> list[Any]:
    base = os.environ.get(POSTGRES_ENV)
    postgres: Any = "postgresql"
    if not base and not os.environ.get("QUNYOU_REQUIRE_POSTGRES"):
        postgres = pytest.param("postgresql", marks=pytest.mark.skip(reason=f"{POSTGRES_ENV} is not set"))
    return ["sqlite", postgres]


async def _on_engine(engine: str, steps: list[Step]) -> None:
    if engine == "sqlite":
        await _run(f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/iso.db", steps)
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.fail(f"{POSTGRES_ENV} is not set but QUNYOU_REQUIRE_POSTGRES is")
    url, name = await _create_pg_database(base)
    try:
        await _run(url, steps)
    finally:
        await _drop_pg_database(base, name)


@pytest.mark.parametrize("engine", _engines())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEPS, min_size=1, max_size=25))
# The attack that was reproduced: A's owner names B as A's moderator chat.
@example(steps=[Step("ann", text=f"/set mod_chat {B}"), Step("ann", text="/kw list")])
def test_nothing_done_in_a_changes_b(engine: str, steps: list[Step]) -> None:
    # A sync test with its own loop per example: every example starts a fresh bot on a fresh
    # database, which Hypothesis cannot do through async fixtures.
    asyncio.run(_on_engine(engine, steps))
