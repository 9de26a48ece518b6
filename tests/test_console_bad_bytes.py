"""Issue 25, item 3: no input line ends the console process.

Through a real ``python -m bot console --script`` process, from a file and from standard
input: lone surrogates (JSON escapes) in ``user``, ``chat`` and ``id`` used to kill the echo;
invalid UTF-8 in a file killed the run before its first line (stdin replaced it); U+2028 and
U+0085 inside a JSON string split a file's line in two (``str.splitlines``) but not stdin's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLOCK = "2026-03-02T09:00:00+08:00"

SCRIPT = b"\n".join(
    [
        rb'{"type":"message","chat":"g","user":"\ud800","text":"/ping"}',
        rb'{"type":"message","chat":"\udfff","user":"a","text":"/ping"}',
        rb'{"type":"message","chat":"g","user":"a","id":"x\ud800","text":"/ping"}',
        b'{"type":"message","chat":"g","user":"b","id":"bytes","text":"caf\xff\xfe"}',
        '{"type":"message","chat":"g","user":"c","id":"seps","text":"a\u2028b\u0085c"}'.encode(),
        b'{"type":"message","chat":"g","user":"d","id":"crlf","text":"/ping"}\r',
        b'{"type":"message","chat":"g","user":"z","id":"last","text":"/ping"}',
        b"",
    ]
)


def _run(mode: str, tmp_path: Path, script: bytes) -> tuple[int, list[dict[str, Any]], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "bot", "console", "--clock", CLOCK, "--script"]
    if mode == "file":
        path = tmp_path / "script.jsonl"
        path.write_bytes(script)
        proc = subprocess.run([*args, str(path)], cwd=ROOT, capture_output=True, timeout=120, env=env)
    else:
        proc = subprocess.run([*args, "-"], cwd=ROOT, input=script, capture_output=True, timeout=120, env=env)
    records = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines() if line]
    return proc.returncode, records, proc.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("mode", ["file", "stdin"])
def test_undecodable_and_unencodable_lines_do_not_end_the_run(mode: str, tmp_path: Path) -> None:
    code, records, stderr = _run(mode, tmp_path, SCRIPT)
    assert code == 0, stderr
    assert [r for r in records if r["action"] == "error"] == []
    seen = [(r.get("chat"), r.get("user"), r["id"]) for r in records if r["action"] == "seen"]
    assert seen == [
        ("g", "\ufffd", "m1"),
        ("\ufffd", "a", "m2"),
        ("g", "a", "x\ufffd"),
        ("g", "b", "bytes"),
        ("g", "c", "seps"),
        ("g", "d", "crlf"),
        ("g", "z", "last"),
    ]
    replies = {r.get("reply_to") for r in records if r["action"] == "send"}
    assert {"m1", "m2", "x\ufffd", "crlf", "last"} <= replies
