"""Issue 16: lexicon lint and the operator's evaluation command."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from handlers.moderation.lint import lint_entries, lint_files
from handlers.moderation.matcher import Entry, Level, Mode
from tests.harness import Harness
from tests.moderation.helpers import sent_to

CORPUS = Path(__file__).with_name("corpus")


def _codes(*terms: str, allow: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    entries = [(n, Entry(t, Level.YELLOW)) for n, t in enumerate(terms, start=1)]
    return [(i.line, i.code) for i in lint_entries(entries, allow=allow)]


def test_lint_names_each_line_and_reason() -> None:
    found = _codes(
        "my",
        "is",
        "qq",
        "系统",
        "网络赌博",
        "网络 赌博",
        "幹",
        "kill",
        "casino royale",
        allow=("casino royale",),
    )
    assert (1, "too_short") in found and (2, "too_short") in found and (3, "too_short") in found
    assert (4, "everyday") in found
    assert (6, "duplicate") in found
    assert (7, "fold_guard") in found and (7, "too_short") in found
    assert (8, "everyday") in found  # custom category: the matcher lowers it when alone
    assert (9, "allowed") in found
    assert not any(line == 5 for line, _ in found)  # a real term passes


def test_lint_flags_a_slow_regex_but_not_a_fast_one() -> None:
    slow = [(1, Entry(r"(\w+\s?)+$", Level.RED, mode=Mode.REGEX))]
    fast = [(1, Entry(r"代\s*开\s*发\s*票", Level.RED, mode=Mode.REGEX))]
    assert [i.code for i in lint_entries(slow, regex_timeout=0.001)] == ["slow_regex"]
    assert lint_entries(fast, regex_timeout=1.0) == []


def test_lint_files_counts_duplicates_across_files(tmp_path: Path) -> None:
    a = tmp_path / "a.tsv"
    b = tmp_path / "b.tsv"
    a.write_text("red\tgambling\t网络赌博\n", encoding="utf-8")
    b.write_text("# comment\nyellow\tgambling\t网络 赌博\n", encoding="utf-8")
    assert [(p, i.line, i.code) for p, i in lint_files([a, b])] == [(str(b), 2, "duplicate")]


async def test_kw_import_reports_lint_by_line_without_dropping_or_echoing(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "hello", role="moderator")
        out = await h.say("demo", "max", "/kw import\nred 网络赌博\nyellow my\nyellow 系统 custom")
        (text,) = sent_to(out, "demo")
        assert "新增 3 条" in text and "2 处需要检查" in text
        assert "第 2 行：太短" in text and "第 3 行：日常常用词" in text
        assert "系统" not in text and "my" not in text.replace("/kw", "")
        terms = await h.services.state["moderation"].repos.lexicon.terms(1)
        assert len(terms) == 3  # nothing dropped: the operator decides


def test_eval_command_prints_flag_share_top_terms_and_precision(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "moderation",
            "eval",
            "--lexicon",
            str(CORPUS / "lexicon.tsv"),
            "--texts",
            str(CORPUS / "texts.txt"),
            "--labels",
            str(CORPUS / "labels.txt"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "lint findings" in out and "flagged:" in out and "top terms" in out
    assert "precision=" in out and "recall=" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--texts", "/nonexistent/texts.txt"], "No such file"),
        (["--texts", "LABELS_BAD"], "label must be 1 or 0"),
        (["--texts", "LABELS_SHORT"], "labels for"),
    ],
)
def test_eval_command_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_text("hello\nworld\n", encoding="utf-8")
    labels = tmp_path / "labels.txt"
    args = ["moderation", "eval", "--lexicon", str(CORPUS / "lexicon.tsv")]
    if extra[1] == "LABELS_BAD":
        labels.write_text("1\nmaybe\n", encoding="utf-8")
        args += ["--texts", str(texts), "--labels", str(labels)]
    elif extra[1] == "LABELS_SHORT":
        labels.write_text("1\n", encoding="utf-8")
        args += ["--texts", str(texts), "--labels", str(labels)]
    else:
        args += extra
    assert main(args) == 2
    assert message in capsys.readouterr().err


async def test_kw_add_notes_lint_findings_without_repeating_the_term(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "hello", role="moderator")
        (text,) = sent_to(await h.say("demo", "max", "/kw add yellow 系统 custom"), "demo")
        assert "本群词库共 1 条" in text and "请检查：日常常用词" in text and "系统" not in text
        (text,) = sent_to(await h.say("demo", "max", "/kw add red 网络赌博网站 gambling"), "demo")
        assert "请检查" not in text
