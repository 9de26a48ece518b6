"""Discord sharding from config: discord.py's own sharded clients, built as configured.

This checks the client the adapter builds (its class and shard settings), not a live sharded
gateway session: the fake gateway of the other Discord tests speaks one shard.
"""

from __future__ import annotations

import discord
import pytest

from adapters.discord import build
from bot.app import build_adapters
from bot.config import parse_settings
from bot.errors import ConfigError

ENV = {"DISCORD_BOT_TOKEN": "test-token"}


def _client(**config: object) -> discord.Client:
    adapter = build("dc", {"type": "discord", **config}, ENV)
    return adapter._make_client(discord.Intents.default())


def test_no_sharding_by_default() -> None:
    client = _client()
    assert not isinstance(client, discord.AutoShardedClient)
    assert client.shard_id is None and client.shard_count is None


def test_one_fixed_shard_per_worker() -> None:
    client = _client(shard_count=4, shard_ids=[3])
    assert not isinstance(client, discord.AutoShardedClient)
    assert (client.shard_id, client.shard_count) == (3, 4)


def test_several_shards_in_one_worker_use_the_auto_sharded_client() -> None:
    client = _client(shard_count=4, shard_ids=[0, 2])
    assert isinstance(client, discord.AutoShardedClient)
    assert (client.shard_ids, client.shard_count) == ([0, 2], 4)


def test_shard_count_zero_lets_discord_recommend_it() -> None:
    client = _client(shard_count=0)
    assert isinstance(client, discord.AutoShardedClient)
    assert client.shard_count is None and client.shard_ids is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"shard_ids": [1]}, "shard_ids needs shard_count"),
        ({"shard_count": 2, "shard_ids": [2]}, "out of range 0..1"),
        ({"shard_count": -1}, "adapters.dc.shard_count"),
    ],
)
def test_bad_shard_settings_are_config_errors(section: dict[str, object], message: str) -> None:
    settings = parse_settings({"adapters": {"dc": {"type": "discord", **section}}})
    with pytest.raises(ConfigError, match=message):
        build_adapters(settings, ENV)
