"""A property-based fuzzer of the console script protocol, driving the real core.

Raw JSON lines go into ``ScriptSession.run`` exactly as a script's lines would, so JSON decoding
and field validation are fuzzed too. Properties: no exception escapes the session (a process
death), nothing is logged at ERROR or with a traceback, every unparseable line gets an ``error``
record, and no handler fails.

CI runs a bounded, derandomized chunk (a few thousand lines). ``QUNYOU_FUZZ_EXAMPLES=20000`` runs
about 100,000 lines locally.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console.script import ScriptSession, script_lines
from bot.app import App
from bot.config import parse_settings
from bot.router import CommandTable
from handlers import FEATURES

EXAMPLES = int(os.environ.get("QUNYOU_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,  # one bot per test, shared by its examples on purpose
    ],
)

# -- what the bot registers (never hand-listed) ---------------------------------------------------
TABLE = CommandTable([f.router for f in FEATURES], prefixes=["/"])
COMMAND_WORDS = sorted(
    {c.name for c in TABLE.all()}
    | {a if isinstance(a, str) else a[0] for c in TABLE.all() for a in c.aliases}
)
BUTTON_PREFIXES = sorted({b.prefix for f in FEATURES for b in f.router.buttons})

# -- values ---------------------------------------------------------------------------------------
EXTREMES = [
    str(2**63),
    str(2**64),
    str(-(2**63)),
    str(2**31),
    "1e308",
    "-1e308",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "0",
    "-1",
    "9" * 400,
    "#0",
    "１２",
    "²",
    "①",
    "9999-12-31 23:59",
    "0000-00-00 00:00",
    "25:61",
    "Asia",
    "../../etc/passwd",
    "999999d",
    "* * * * *",
    "@alice",
    "@",
    "|",
    "||||||",
    '"',
    "'",
]
NAMES = ["demo", "alice", "bob", "mallory", "demo-mods"]
hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(EXTREMES),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200),
    st.sampled_from(["\x00", "\u202e", "\ufeff", "👨‍👩‍👧‍👦", "\r\n", "\t", "　", "／ping", "！签到"]),
)
#: Plain text for ids and names: anything UTF-8 can carry (lone surrogates are their own class).
field_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40)
surrogate_text = st.lists(
    st.one_of(st.sampled_from(["\ud800", "\udfff", "\udc80", "a\ud83d"]), st.text(max_size=3)), min_size=1
).map("".join)


def args_for(word: str) -> st.SearchStrategy[str]:
    """A command word followed by 0–4 arguments mixing extremes and hostile text."""
    arg = st.one_of(st.sampled_from(EXTREMES), hostile_text, st.sampled_from(COMMAND_WORDS))
    return st.lists(arg, max_size=4).map(lambda xs: " ".join([word, *xs]).strip())


command_text = st.sampled_from(COMMAND_WORDS).flatmap(
    lambda w: st.one_of(args_for("/" + w), args_for(w), args_for("!" + w))
)


def message(text: st.SearchStrategy[str], names: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A ``message`` line with optional fields."""
    return st.fixed_dictionaries(
        {"type": st.just("message"), "chat": names, "user": names, "text": text},
        optional={
            "id": st.one_of(field_text, st.integers()),
            "reply_to": st.one_of(field_text, st.sampled_from(["b1", "b2", "m1"])),
            "role": st.sampled_from(["member", "moderator", "owner", "superuser", "root", ""]),
            "name": field_text,
            "lang": st.sampled_from(["en", "zh", "zh-CN", "xx", ""]),
        },
    )


def button(data: st.SearchStrategy[str], names: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A ``button`` line pressing ``data``."""
    return st.fixed_dictionaries(
        {
            "type": st.just("button"),
            "chat": names,
            "user": names,
            "message": st.one_of(st.sampled_from(["b1", "b2", "m1"]), field_text),
            "data": data,
        }
    )


forged_data = st.tuples(
    st.sampled_from(BUTTON_PREFIXES),
    st.lists(
        st.one_of(st.sampled_from(EXTREMES), st.sampled_from(["yes", "no", "ok", "ack", "join", "rate"])),
        max_size=4,
    ),
).map(lambda p: p[0] + ":".join(p[1]))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
random_objects = st.dictionaries(
    st.sampled_from(["type", "chat", "user", "text", "data", "message", "seconds", "to", "id", "role", "x"]),
    json_values,
    max_size=6,
).map(lambda d: {**d, "type": d.get("type", "message")})
typed_objects = st.tuples(
    st.sampled_from(["message", "dm", "join", "leave", "button", "advance", "restart", "teleport", 7, None]),
    random_objects,
).map(lambda p: {**p[1], "type": p[0]})


def dumps(obj: object) -> str:
    """One JSON line as a script would hold it (NaN allowed, as Python writes it)."""
    return json.dumps(obj, ensure_ascii=False)


# -- the session ----------------------------------------------------------------------------------
class Tracebacks(logging.Handler):
    """Collects every record at ERROR or above, and any record carrying exc_info."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


class Fuzz:
    """One bot on a fresh SQLite file and a virtual clock, fed batches of raw lines."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.records: list[dict[str, Any]] = []
        cfg = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}"}})
        self.session = ScriptSession(
            cfg,
            start=datetime.fromisoformat("2026-03-02T09:00:00+08:00"),
            write=self.records.append,
            make_app=App,
        )
        self.loop.run_until_complete(self.session.start())
        self.lines = 0

    def feed(self, lines: list[str]) -> list[dict[str, Any]]:
        """Run ``lines``; returns their output records. An escaping exception fails the test."""
        self.records.clear()
        self.loop.run_until_complete(self.session.run(lines))
        self.lines += len(lines)
        return list(self.records)

    def close(self) -> None:
        self.loop.run_until_complete(self.session.stop())
        self.loop.close()


@pytest.fixture
def fuzz(tmp_path: Path) -> Iterator[Fuzz]:
    """A session plus a log handler that records tracebacks; checked after the test."""
    handler = Tracebacks()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)  # DEBUG would log every aiosqlite call: slow, and no tracebacks
    session = Fuzz(tmp_path)
    try:
        yield session
    finally:
        session.close()
        root.removeHandler(handler)
        root.setLevel(old_level)
    failures = session.session.app.dispatcher.failures if session.session.app.dispatcher else 0
    logged = [f"{r.name}: {r.getMessage()}" for r in handler.records]
    assert logged == [], logged[:5]
    assert failures == 0
    print(f"fuzz: {session.lines} lines")


def check_errors(lines: list[str], out: list[dict[str, Any]]) -> None:
    """Every line that is not a JSON object got an ``error`` record naming it."""
    errored = {r["line"] for r in out if r["action"] == "error"}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            assert number in errored, (number, raw[:80])


def run_batch(fuzz: Fuzz, objects: list[Any], garbage: list[str] | None = None) -> None:
    lines = [dumps(o) for o in objects] + (garbage or [])
    check_errors(lines, fuzz.feed(lines))


# -- the properties -------------------------------------------------------------------------------
@FUZZ
@given(
    st.lists(
        st.one_of(
            st.text(max_size=80),
            st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
            json_values.map(dumps),
            typed_objects.map(dumps),
            st.sampled_from(["{", "[]", "null", '{"type":', "{}" * 50, '{"type":"message"}' * 2, "\x00{}"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_random_lines(fuzz: Fuzz, lines: list[str]) -> None:
    """Arbitrary text and arbitrary JSON: answered with error records or handled."""
    lines = [ln for ln in lines if "\n" not in ln and "\r" not in ln]  # a script line has no newline
    check_errors(lines, fuzz.feed(lines))


@FUZZ
@given(
    st.lists(
        st.one_of(
            message(hostile_text, st.sampled_from(NAMES)),
            message(command_text, st.sampled_from(NAMES)),
            st.fixed_dictionaries(
                {"type": st.just("dm"), "user": st.sampled_from(NAMES), "text": command_text}
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_every_command_with_hostile_arguments(fuzz: Fuzz, objects: list[dict[str, Any]]) -> None:
    """Every registered command and alias, as owner and as member, with extreme arguments."""
    fuzz.feed([dumps({"type": "message", "chat": "demo", "user": "alice", "text": "hi", "role": "owner"})])
    run_batch(fuzz, objects)


@FUZZ
@given(
    st.lists(
        button(st.one_of(forged_data, hostile_text.filter(bool)), st.sampled_from(NAMES)),
        min_size=1,
        max_size=12,
    )
)
def test_forged_buttons(fuzz: Fuzz, objects: list[dict[str, Any]]) -> None:
    """Presses whose data starts with a real route's prefix and continues with anything."""
    fuzz.feed([dumps({"type": "message", "chat": "demo", "user": "alice", "text": "hi", "role": "owner"})])
    run_batch(fuzz, objects)


@FUZZ
@given(
    st.lists(
        st.one_of(
            message(hostile_text, field_text),
            button(forged_data, field_text),
            st.fixed_dictionaries(
                {"type": st.sampled_from(["join", "leave"]), "chat": field_text, "user": field_text}
            ),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_strange_text_in_every_field(fuzz: Fuzz, objects: list[dict[str, Any]]) -> None:
    """Any UTF-8 text as chat, user, id, name and message ids."""
    run_batch(fuzz, objects)


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.just("advance"),
                    "seconds": st.one_of(
                        st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(allow_nan=True, allow_infinity=True),
                        st.sampled_from([float("nan"), float("inf"), -0.0, 1e308, 2**63, *EXTREMES]),
                    ),
                }
            ),
            st.fixed_dictionaries(
                {"type": st.just("advance"), "to": st.one_of(st.text(max_size=30), st.sampled_from(EXTREMES))}
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_advance_with_garbage(fuzz: Fuzz, objects: list[dict[str, Any]]) -> None:
    """``advance`` with numbers of every kind and unparseable instants (no group exists, so no
    jobs: a far-future run is instant rather than ten years of daily posts)."""
    run_batch(fuzz, objects)


# -- surrogates and far-future clocks -----------------------------------------------------------
@FUZZ
@given(
    st.lists(
        st.one_of(message(surrogate_text, st.sampled_from(NAMES)), message(st.just("hi"), surrogate_text)),
        min_size=1,
        max_size=4,
    )
)
def test_lone_surrogates_in_fields(fuzz: Fuzz, objects: list[dict[str, Any]]) -> None:
    """JSON can carry ``\\ud800``; the console must answer, not die, when it writes it back."""
    lines = [json.dumps(o) for o in objects]  # ASCII escapes, as a script file holds them
    check_errors(lines, fuzz.feed(lines))


@FUZZ
@given(
    st.sampled_from(
        [
            "9999-12-31T23:59:59+00:00",
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59.999999+00:00",
            "2026-03-02T09:00:00+08:00",
        ]
    )
)
def test_far_future_advance(fuzz: Fuzz, to: str) -> None:
    """``advance`` to the end of the calendar on a bot with a group and its daily jobs: an
    ``error`` record beyond the ten-year cap, and the run goes on."""
    fuzz.feed([dumps({"type": "message", "chat": "demo", "user": "alice", "text": "签到", "role": "owner"})])
    out = fuzz.feed([dumps({"type": "advance", "to": to}), dumps({"type": "advance", "seconds": 1})])
    if to.startswith(("9999", "0001")):
        assert [r["line"] for r in out if r["action"] == "error"] == [1]


#: Bytes as a script file may hold them: JSON around arbitrary bytes, and bare invalid UTF-8.
raw_lines = st.one_of(
    st.binary(max_size=60),
    st.tuples(st.sampled_from(NAMES), st.binary(min_size=1, max_size=30)).map(
        lambda p: b'{"type":"message","chat":"demo","user":"' + p[0].encode() + b'","text":"' + p[1] + b'"}'
    ),
    st.binary(min_size=1, max_size=20).map(
        lambda b: b'{"type":"message","chat":"' + b + b'","user":"x","text":"hi"}'
    ),
    st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"]),
)


@FUZZ
@given(st.lists(raw_lines, min_size=1, max_size=12))
def test_invalid_utf8_in_script_bytes(fuzz: Fuzz, raw: list[bytes]) -> None:
    """Undecodable bytes anywhere in a line: read as a script file is (U+FFFD), never fatal."""
    stream = io.BytesIO(b"\n".join(raw) + b"\n")
    lines = list(script_lines(stream))
    check_errors(lines, fuzz.feed(lines))
