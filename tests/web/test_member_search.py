"""The members list's search: case, wildcards typed literally, exact ids, and the cap past
which it says "more than" (a search reads the group once; docs/dashboard.md)."""

from __future__ import annotations

import re
from pathlib import Path

from storage.models import SEARCH_CAP
from storage.stats import BulkLoader
from tests.harness import Harness
from tests.web.helpers import dashboard, log_in


def _names(html: str) -> list[str]:
    return re.findall(r'href="/g/1/members/\d+">([^<]+)<', html)


async def test_search_ignores_case_and_takes_wildcards_literally(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        for user, name in (
            ("u1", "Alice Wu"),
            ("u2", "alice"),
            ("u3", "a_b"),
            ("u4", "百分之%"),
            ("u5", "ab"),
        ):
            await h.say("demo", user, "hi", name=name)
        await log_in(h, client, "demo", "max")
        assert sorted(_names((await client.get("/g/1/members?q=ALICE")).text)) == ["Alice Wu", "alice"]
        assert _names((await client.get("/g/1/members?q=_")).text) == ["a_b"]
        assert _names((await client.get("/g/1/members?q=%25")).text) == ["百分之%"]
        assert _names((await client.get("/g/1/members?q=百分")).text) == ["百分之%"]
        assert _names((await client.get("/g/1/members?q=u5")).text) == ["ab"]  # an exact user id
        assert _names((await client.get("/g/1/members?q=zzz")).text) == []


async def test_a_search_matching_more_than_the_cap_says_so_and_pages(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        group = await h.services.groups.get(1)
        assert group is not None
        # Bulk members named "member bulkN" (the storage loader the benchmarks use).
        await BulkLoader(h.services.db).members(
            group.id, [f"bulk{i:05d}" for i in range(SEARCH_CAP + 5)], h.now
        )
        await log_in(h, client, "demo", "max")
        page = await client.get("/g/1/members?q=bulk")
        assert page.status_code == 200 and f"超过 {SEARCH_CAP} 位" in page.text
        assert len(_names(page.text)) == 25
        last = await client.get(f"/g/1/members?q=bulk&page={SEARCH_CAP // 25}")
        assert len(_names(last.text)) == 25 and f"bulk{SEARCH_CAP - 1:05d}" in last.text
        assert _names((await client.get(f"/g/1/members?q=bulk&page={SEARCH_CAP // 25 + 1}")).text) == []
        listing = await client.get("/g/1/members")
        assert "超过" not in listing.text and str(SEARCH_CAP + 6) in listing.text.replace(",", "")
