"""``DiscordAdapter.connected`` follows the gateway session, not just the REST login.

discord.py reconnects by itself after the websocket drops and says so only through events
(``disconnect``, then ``connect`` on a new READY or ``resumed``); ``/readyz`` and the desk's
watchdog read ``connected``, so a drop must show there until the session is back. The fake
gateway dispatches what discord.py's own ``connect`` loop and parsers dispatch.
"""

from __future__ import annotations

import pytest

from tests.adapters.test_discord import make_rig


async def test_connected_follows_gateway_drops_and_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = await make_rig(monkeypatch)
    try:
        await rig.settle()
        assert rig.adapter.me is not None
        assert rig.adapter.connected, "READY seen: connected"

        rig.fake.drop_gateway(rig.adapter.client)
        await rig.settle()
        assert not rig.adapter.connected, "the websocket is lost: not connected while discord.py reconnects"
        assert rig.adapter.me is not None, "still logged in: the REST session is not the gateway"

        rig.fake.resume_gateway(rig.adapter.client)
        await rig.settle()
        assert rig.adapter.connected, "RESUMED: connected again"

        rig.fake.drop_gateway(rig.adapter.client)
        await rig.settle()
        assert not rig.adapter.connected
        rig.adapter.client.dispatch("connect")  # a fresh session (READY) after a failed resume
        await rig.settle()
        assert rig.adapter.connected
    finally:
        await rig.adapter.stop()
    assert not rig.adapter.connected, "stopped: closed"


async def test_not_connected_before_ready_or_after_the_gateway_task_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = await make_rig(monkeypatch)
    try:
        await rig.settle()
        assert rig.adapter.connected
        rig.adapter.gateway.seen = False  # as right after login, before READY
        assert not rig.adapter.connected
        rig.adapter.gateway.seen = True
        task = rig.adapter._gateway
        assert task is not None
        task.cancel()  # the gateway task died (discord.py gave up, an exception escaped)
        await rig.settle()
        assert not rig.adapter.connected
    finally:
        await rig.adapter.stop()


async def test_a_sharded_client_is_down_while_any_of_its_shards_is(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = await make_rig(monkeypatch, shard_count=4, shard_ids=[0, 2])
    try:
        await rig.settle()
        assert rig.adapter.connected, "both shards READY"
        rig.fake.drop_gateway(rig.adapter.client, shard_id=2)
        await rig.settle()
        assert not rig.adapter.connected, "shard 2 lost"
        rig.fake.resume_gateway(rig.adapter.client, shard_id=0)
        await rig.settle()
        assert not rig.adapter.connected, "shard 0 resuming does not bring shard 2 back"
        rig.fake.resume_gateway(rig.adapter.client, shard_id=2)
        await rig.settle()
        assert rig.adapter.connected
    finally:
        await rig.adapter.stop()
