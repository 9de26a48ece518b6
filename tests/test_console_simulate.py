"""``/simulate`` in the interactive console: every wrong line says what is wrong (issue 15)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from adapters.console.repl import _simulate

#: Never reached by a wrong line: the simulation itself is tested in tests/antispam/test_raid.py.
_UNUSED = cast(Any, None)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("raid 0", "a raid of '0' accounts? give a number from 1 to 500: /simulate raid 50"),
        ("raid 99999", "a raid of '99999' accounts? give a number from 1 to 500: /simulate raid 50"),
        ("raid lots", "a raid of 'lots' accounts? give a number from 1 to 500: /simulate raid 50"),
        ("riot 5", "nothing called 'riot' to simulate; there is one: /simulate raid [1..500]"),
        ("", "/simulate raid [1..500] — a synthetic raid on this group"),
        ("raid 5 more", "/simulate raid [1..500] — a synthetic raid on this group"),
    ],
)
async def test_a_wrong_simulate_line_says_what_is_wrong(
    line: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _simulate(_UNUSED, _UNUSED, "demo", line)
    assert capsys.readouterr().out.strip() == says
