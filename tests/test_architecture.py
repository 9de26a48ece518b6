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
        if bad and rel not in {"bot/app.py", "bot/cli.py"}:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert offenders == []


PRODUCT = ("bot", "handlers", "adapters", "storage", "web")
#: The one import of ``bench`` product code may make: ``python -m bot bench`` has to load the
#: benchmarks somehow, and does it lazily inside this one CLI function, so nothing else in the
#: bot ever loads benchmark code.
BENCH_ENTRY = ("bot/cli.py", "_bench")


def _imports_with_scope(path: Path) -> list[tuple[str, str | None]]:
    """Every absolute import in ``path`` as (top-level package, enclosing function or None)."""
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name.split(".")[0], function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module.split(".")[0], function))
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def _product_files() -> list[Path]:
    return [path for folder in PRODUCT if (ROOT / folder).is_dir() for path in (ROOT / folder).rglob("*.py")]


def test_product_code_never_imports_bench() -> None:
    offenders = []
    entries = []
    for path in _product_files():
        rel = path.relative_to(ROOT).as_posix()
        for package, function in _imports_with_scope(path):
            if package != "bench":
                continue
            if (rel, function) == BENCH_ENTRY:
                entries.append(rel)
            else:
                where = f"in {function}()" if function else "at module level"
                offenders.append(f"{rel} imports bench {where}")
    assert offenders == [], (
        "Product code (bot, handlers, adapters, storage, web) must not import the top-level "
        "`bench` package: benchmarks depend on the product, never the other way round. Put "
        "measurement code in bench/<section>.py and register it in bench/runner.py's SECTIONS; "
        "if the bench needs something from the product, give the product a public function "
        f"and call it from bench/. Only {BENCH_ENTRY[0]}:{BENCH_ENTRY[1]}() may import it, "
        f"lazily. Offenders: {offenders}"
    )
    assert entries == [BENCH_ENTRY[0]], (
        f"`python -m bot bench` loads the benchmarks through one lazy `import bench` inside "
        f"{BENCH_ENTRY[0]}:{BENCH_ENTRY[1]}(); found {len(entries)}. Keep exactly that one."
    )


def test_no_bench_modules_inside_the_product() -> None:
    stray = [
        path.relative_to(ROOT).as_posix() for path in _product_files() if "bench" in path.stem.split("_")
    ]
    assert stray == [], (
        f"Benchmark modules belong in the top-level bench/ package, not in the product: {stray}. "
        "Move each to bench/<section>.py and list it in bench/runner.py's SECTIONS."
    )


#: Reading package data or metadata through importlib is fine; importing code by name is not.
_IMPORTLIB_OK = {"resources", "metadata"}


def _dynamic_imports(path: Path) -> list[str]:
    """Uses of importlib's import machinery (not its ``resources``/``metadata``) in ``path``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                head, _, sub = alias.name.partition(".")
                if head == "importlib" and sub.split(".")[0] not in _IMPORTLIB_OK:
                    found.append(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module == "importlib":
            found += [f"importlib.{a.name}" for a in node.names if a.name not in _IMPORTLIB_OK]
        elif isinstance(node, ast.Attribute) and node.attr == "import_module":
            found.append("import_module")
        elif isinstance(node, ast.Name) and node.id in {"import_module", "__import__"}:
            found.append(node.id)
    return found


def test_handlers_import_code_statically() -> None:
    offenders = []
    for path in (ROOT / "handlers").rglob("*.py"):
        found = _dynamic_imports(path)
        if found:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(set(found))}")
    assert offenders == [], (
        "Features must not import code by name at run time (importlib.import_module, __import__): "
        "it hides a dependency from this test and from mypy. A feature that needs another "
        "feature's behaviour asks for a port (a Protocol in bot/ports.py, provided by the owning "
        "feature's Feature.provides, looked up through services.ports); a benchmark belongs in "
        "bench/. importlib.resources and importlib.metadata stay allowed. "
        f"Offenders: {offenders}"
    )


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


PLANNING_FEATURES = ("topics", "schedules", "activities", "onboarding")


def test_planning_features_do_not_import_each_other() -> None:
    # One feature reaches another only through a port (bot/ports.py): not even a lazy import
    # inside a function, so every import anywhere in the file counts.
    offenders = []
    for package in PLANNING_FEATURES:
        for path in (ROOT / "handlers" / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                else:
                    continue
                for name in names:
                    parts = name.split(".")
                    if len(parts) > 1 and parts[0] == "handlers" and parts[1] in PLANNING_FEATURES:
                        if parts[1] != package:
                            offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
