"""A message is parsed once: every band reads the command, the folded and the case-folded text
from the one ``ParsedMessage`` the dispatcher builds (``ctx.parsed``), never derives its own.

Counted through the console harness for one newcomer's message that passes the moderation screen
(lexicon and flood), antispam's probation and duplicate checks, the activity points and the
statistics: each transformation of the whole text runs exactly once.
"""

from __future__ import annotations

import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.router import CommandTable
from handlers.moderation import folding
from tests.harness import Harness

#: Long enough for antispam's duplicate check (min_chars), no link, no lexicon hit, no command.
MESSAGE = "大家好，我是新来的，请多多关照 everyone"


def _count_everywhere(
    monkeypatch: pytest.MonkeyPatch, target: Callable[..., Any], name: str, calls: Counter[str]
) -> None:
    """Replace every module-level reference to ``target`` in our packages with a counting wrapper
    (features import functions by name, so patching the defining module alone would miss them)."""

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        if text == MESSAGE:
            calls[name] += 1
        return target(text, *args, **kwargs)

    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(("bot", "handlers", "storage")):
            continue
        for attr, value in list(vars(module).items()):
            if value is target:
                monkeypatch.setattr(module, attr, counting)


async def test_one_message_is_parsed_and_folded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "hello", role="moderator")
        await h.join("demo", "newbie")
        await h.say("demo", "newbie", "早上好")
        calls: Counter[str] = Counter()
        parse = CommandTable.parse

        def counting_parse(self: CommandTable, text: str, me: str | None) -> Any:
            if text == MESSAGE:
                calls["command"] += 1
            return parse(self, text, me)

        monkeypatch.setattr(CommandTable, "parse", counting_parse)
        _count_everywhere(monkeypatch, folding.fold, "fold", calls)
        normalize = unicodedata.normalize

        def counting_normalize(form: Any, text: str) -> str:
            # NFKC of the whole message (or of a prefix that is all of it) is the shared
            # case-folded reading; per-character and per-word calls are not counted.
            if form == "NFKC" and text == MESSAGE:
                calls["nfkc"] += 1
            return normalize(form, text)

        monkeypatch.setattr(unicodedata, "normalize", counting_normalize)
        records = await h.say("demo", "newbie", MESSAGE)
        assert not [r for r in records if r["action"] in ("delete", "mute")]  # it passed every band
        assert calls == Counter(command=1, fold=1, nfkc=1), calls


async def test_a_moderators_lexicon_command_is_split_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen asks whether a message that hit the lexicon is a moderation command (a
    moderator managing the lexicon is not breaking it): it reads the dispatcher's parse."""
    command = "/kw test cheap pills"
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", '/kw add yellow "cheap pills" custom', role="moderator")
        # Moderators are screened too, so the screen has to tell a lexicon command from a breach.
        await h.say("demo", "olivia", "/set moderation.exempt_moderators off", role="owner")
        parses: Counter[str] = Counter()
        parse = CommandTable.parse

        def counting_parse(self: CommandTable, text: str, me: str | None) -> Any:
            parses[text] += 1
            return parse(self, text, me)

        monkeypatch.setattr(CommandTable, "parse", counting_parse)
        records = await h.say("demo", "max", command, role="moderator")
        # The command ran (its report went to the moderator chat) and the screen let it pass.
        assert [r for r in records if r["action"] == "send" and r.get("chat") == "demo-mods"]
        assert not [r for r in records if r["action"] in ("mute", "ban")]
        assert parses[command] == 1, parses
