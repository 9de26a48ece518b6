"""The web layer reaches features only through ports: no ``handlers``, no ``adapters``, no
``bot.app``, and of ``storage`` only the dashboard's own tables and the shared models."""

from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
ALLOWED_STORAGE = {"storage.dashboard", "storage.models"}


def test_web_imports_no_feature_no_adapter_and_no_other_tables() -> None:
    offenders = []
    for path in WEB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                head = name.split(".")[0]
                bad = (
                    head in {"handlers", "adapters"}
                    or name == "bot.app"
                    or (head == "storage" and name not in ALLOWED_STORAGE)
                )
                if bad:
                    offenders.append(f"{path.relative_to(WEB.parent)}: {name}")
    assert offenders == []
