"""Architecture rules a test can check: import direction, i18n completeness, feature list."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.i18n import LANGUAGES, I18n
from handlers import FEATURES

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBS = {"telegram", "discord", "aiohttp", "websockets", "httpx", "adapters"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_handlers_and_storage_never_import_platform_libraries() -> None:
    offenders = []
    for folder in ("handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            bad = _imports(path) & PLATFORM_LIBS
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []


def test_storage_imports_nothing_of_ours_but_storage() -> None:
    offenders = []
    for path in (ROOT / "storage").rglob("*.py"):
        bad = _imports(path) & {"bot", "handlers", "adapters"}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []


def test_only_bot_app_imports_adapters_and_handlers() -> None:
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        bad = _imports(path) & {"adapters", "handlers"}
        if bad and rel not in {"bot/app.py", "bot/cli.py", "bot/bench.py"}:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert offenders == []


def test_no_sql_outside_storage() -> None:
    pattern = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")
    offenders = []
    for folder in ("bot", "handlers", "adapters"):
        for path in (ROOT / folder).rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")) or "sqlalchemy" in _imports(path):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_catalogs_have_the_same_keys() -> None:
    i18n = I18n.load()
    zh, en = (set(i18n.catalogs[lang]) for lang in LANGUAGES)
    assert sorted(zh - en) == [] and sorted(en - zh) == []


_KEY_USE = re.compile(
    r"""(?:\.t|\.parts|BadArgument|usage=|help=|_key\s*=)\(?\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']"""
)


def test_every_key_used_in_code_exists_in_every_catalog() -> None:
    i18n = I18n.load()
    missing = []
    for folder in ("bot", "handlers", "adapters"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in _KEY_USE.findall(path.read_text(encoding="utf-8")):
                for lang in LANGUAGES:
                    if key not in i18n.catalogs[lang]:
                        missing.append(f"{path.relative_to(ROOT)}: {key} ({lang})")
    assert missing == []


def test_features_are_listed_once_with_unique_names() -> None:
    names = [f.name for f in FEATURES]
    assert len(names) == len(set(names))
    assert names[0] == "core"
