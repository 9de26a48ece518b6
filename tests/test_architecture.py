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


# ---------------------------------------------------------------- bot/ has no import cycle


def _bot_module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _bot_imports(path: Path, *, type_only: bool) -> set[str]:
    """The ``bot.*`` modules ``path`` imports at module level; with ``type_only`` also those
    under ``if TYPE_CHECKING:`` (never those inside functions: they run after import)."""
    known = {_bot_module(p) for p in (ROOT / "bot").rglob("*.py")}
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                if type_only:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module in known:
                    found.add(node.module)
                found.update(
                    f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known
                )

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def _cycles(type_only: bool) -> list[list[str]]:
    graph = {_bot_module(p): _bot_imports(p, type_only=type_only) for p in (ROOT / "bot").rglob("*.py")}
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, stack: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                cycle = stack[stack.index(nxt) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append([*cycle, nxt])
            elif len(stack) < 12:
                walk(nxt, [*stack, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return cycles


def test_no_import_cycle_inside_bot() -> None:
    """No cycle among ``bot/`` modules, counting the imports that run when a module is loaded:
    module-level ones, not those under ``if TYPE_CHECKING:`` (type-only, never executed) and
    not those inside functions (they run later, once both modules are loaded)."""
    cycles = _cycles(type_only=False)
    assert cycles == [], (
        "bot/ has an import cycle: "
        + "; ".join(" → ".join(c) for c in cycles)
        + ". Move what both sides need into a lower module (as bot/capability.py holds Capability "
        "for bot/adapter.py and bot/errors.py), or have the lower module accept a Protocol "
        "instead of the higher module's class."
    )


#: Modules in cycles that exist only through ``if TYPE_CHECKING:`` imports (annotations): harmless
#: at run time, but a sign of layers that know each other (Services names AlertService, Feature,
#: CommandTable and Scheduler, which name Services back). Shrink this set; never grow it.
KNOWN_TYPE_ONLY_CYCLE_MODULES = {
    "bot.alerts",
    "bot.context",
    "bot.feature",
    "bot.router",
    "bot.scheduler",
    "bot.services",
}


def test_type_only_import_cycles_do_not_grow() -> None:
    cycles = _cycles(type_only=True)
    involved = {module for cycle in cycles for module in cycle}
    new = sorted(involved - KNOWN_TYPE_ONLY_CYCLE_MODULES)
    assert new == [], (
        f"{new} joined an import cycle inside bot/ through `if TYPE_CHECKING:` imports "
        f"({[' → '.join(c) for c in cycles if set(c) & set(new)]}). Type against a Protocol in "
        "the lower module instead of importing the higher one."
    )


# ---------------------------------------------------------------- adapters and the core


def test_adapters_never_import_the_app_wiring() -> None:
    offenders = []
    for path in (ROOT / "adapters").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == "bot.app" or n.startswith("bot.app.") for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], (
        f"adapters/ must not import bot.app (the wiring sits above the adapters): {offenders}. "
        "Take what you need as an argument from bot/cli.py, as the console runners take a "
        "RuntimeFactory (adapters/console/runtime.py)."
    )


def test_adapters_implement_the_adapter_abc_and_use_only_the_host_protocol() -> None:
    """Every adapter type the app knows builds an ``Adapter``; adapters reach the core only
    through ``AdapterHost`` members, never by probing it (``getattr``/``hasattr``)."""
    import importlib

    from bot.adapter import Adapter
    from bot.app import ADAPTER_TYPES
    from bot.host import AdapterHost

    for module_name in ADAPTER_TYPES.values():
        module = importlib.import_module(module_name)
        build = module.build
        returns = build.__annotations__.get("return")
        cls = getattr(module, str(returns), None) if isinstance(returns, str) else returns
        assert isinstance(cls, type) and issubclass(cls, Adapter), (module_name, returns)
    allowed = {name for name in dir(AdapterHost) if not name.startswith("_")}
    offenders = []

    def host_attribute(node: ast.Attribute, params: set[str]) -> bool:
        value = node.value
        if isinstance(value, ast.Name):
            return value.id in params
        return (
            isinstance(value, ast.Attribute)
            and value.attr in {"host", "_host"}
            and isinstance(value.value, ast.Name)
            and value.value.id == "self"
        )

    for path in (ROOT / "adapters").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = {
                a.arg
                for a in function.args.args + function.args.kwonlyargs
                if a.annotation is not None and "AdapterHost" in ast.unparse(a.annotation)
            }
            for node in ast.walk(function):
                if isinstance(node, ast.Attribute) and host_attribute(node, params):
                    if node.attr not in allowed:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} host.{node.attr}")
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    if node.func.id in {"getattr", "hasattr"} and node.args:
                        first = ast.unparse(node.args[0])
                        if first in params or first in {"self.host", "self._host", "sink", "self._sink"}:
                            offenders.append(
                                f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}({first})"
                            )
    assert offenders == [], (
        f"Adapters may ask the core only what AdapterHost offers ({sorted(allowed)}): {offenders}. "
        "Add what is missing to bot/host.py (and the dispatcher) instead of reaching around it."
    )
