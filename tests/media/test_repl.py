"""The interactive console's ``/photo FILE TEXT``: a picture with a caption, and a command in the
caption gets it (the console has no replies for a person typing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.media.pictures import png, write

ROOT = Path(__file__).resolve().parents[2]


def test_photo_with_a_command_as_caption_attaches_the_picture(tmp_path: Path) -> None:
    photo = write(tmp_path / "cat.png", png(seed=4))
    stdin = f"/role moderator\n/photo {photo} /schedule add daily 09:30 早安\n/photo\n/advance 1h\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--clock", "2026-03-02T09:00:00+08:00"],
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "已附上图片。" in out
    # The post at 09:30, then the picture line the console prints for it.
    after = out.split("早安", 2)[-1]
    assert "🖼" in after and after.split("🖼", 1)[1].split()[0].endswith(".png")
