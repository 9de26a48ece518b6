"""Architecture rules a test can check: import direction, i18n completeness, feature list."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.feature import Feature
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
    r"""(?:\.t|\.parts|BadArgument|usage=|help=|_key\s*=|error=|hint=|denied=|unknown_sub=|group_needed=)"""
    r"""\(?\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']"""
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


def _bot_module(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _bot_imports(path: Path, *, type_only: bool, root: Path = ROOT) -> set[str]:
    """The ``bot.*`` modules ``path`` imports at module level; with ``type_only`` also those
    under ``if TYPE_CHECKING:`` (never those inside functions: they run after import)."""
    known = {_bot_module(p, root) for p in (root / "bot").rglob("*.py")}
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


def _cycles(type_only: bool, root: Path = ROOT) -> list[list[str]]:
    graph = {
        _bot_module(p, root): _bot_imports(p, type_only=type_only, root=root)
        for p in (root / "bot").rglob("*.py")
    }
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
    """No cycle among ``bot/`` modules, counting the imports that run when a module is loaded
    (module-level ones, not those inside functions: they run later, once both modules are
    loaded) and those under ``if TYPE_CHECKING:`` too: a type-only cycle runs fine but is two
    layers that know each other, and the next runtime import between them breaks the start."""
    cycles = _cycles(type_only=True)
    runtime = _cycles(type_only=False)
    assert cycles == [], (
        "bot/ has an import cycle"
        + (" at run time: " if runtime else " through `if TYPE_CHECKING:` imports: ")
        + "; ".join(" → ".join(c) for c in (runtime or cycles))
        + ". Move what both sides need into a lower module (as bot/capability.py holds Capability "
        "for bot/adapter.py and bot/errors.py), or have the lower module accept a Protocol "
        "instead of the higher module's class (as bot/services.py types the command table as "
        "CommandCatalog and bot/alerts.py types the services as AlertHost)."
    )


def test_the_cycle_check_sees_type_only_imports(tmp_path: Path) -> None:
    """The check above is only as good as its reading of ``if TYPE_CHECKING:`` blocks."""
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "low.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.high import X\n"
    )
    (tmp_path / "bot" / "high.py").write_text("from bot.low import Y\n")
    (tmp_path / "bot" / "__init__.py").write_text("")
    assert _cycles(type_only=True, root=tmp_path) == [["bot.high", "bot.low", "bot.high"]]
    assert _cycles(type_only=False, root=tmp_path) == []


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


# -- features meet only through ports (issue 14) ---------------------------------------------------


def _handlers_unit(path: Path) -> str | None:
    """The feature unit a file under handlers/ belongs to: its package, or its module for a
    one-file feature; None for handlers/__init__.py, which lists the features."""
    parts = path.relative_to(ROOT / "handlers").parts
    if parts == ("__init__.py",):
        return None
    return parts[0].removesuffix(".py")


def _imported_modules(path: Path) -> set[str]:
    """Every module an absolute import in ``path`` names (``from a import b`` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_a_feature_never_imports_another_feature() -> None:
    offenders = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        unit = _handlers_unit(path)
        if unit is None:
            continue
        for module in sorted(_imported_modules(path)):
            parts = module.split(".")
            if parts[0] == "handlers" and len(parts) > 1 and parts[1] != unit:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == [], (
        "A feature (a package or module under handlers/) must not import another feature: the "
        "dependency is invisible at start and breaks when that feature is not listed. Add a "
        "Protocol to bot/ports.py, have the owning feature provide it (Feature.provides), list it "
        "in this feature's requires= (or uses= when it works without it) and call "
        f"services.ports.get(Port) / services.ports.find(Port). Offenders: {offenders}"
    )


#: Storage modules of the core, shared by every feature: their tables are everyone's to read.
CORE_STORAGE = {
    "__init__",
    "schema",
    "core",
    "jobs",
    "database",
    "sql",
    "types",
    "models",
    "writer",
    "leases",
}
#: Storage units named otherwise than the feature that owns them (the check-in feature's tables
#: are the points ledger's, for historical reasons). ``<feature>_views`` modules belong to
#: ``<feature>`` without being listed.
STORAGE_OWNER = {"points": "checkin", "activities_signups": "activities"}


def _storage_unit(path: Path) -> str:
    """storage/points.py and storage/points/ledger.py are both the unit ``points``."""
    return path.relative_to(ROOT / "storage").parts[0].removesuffix(".py")


def _storage_owner(unit: str) -> str:
    if unit in CORE_STORAGE:
        return "core"
    if unit.endswith("_views"):
        return unit.removesuffix("_views")
    return STORAGE_OWNER.get(unit, unit)


def _storage_files() -> list[Path]:
    return [p for p in sorted((ROOT / "storage").rglob("*.py")) if "migrations" not in p.parts]


def _defined_tables(path: Path) -> dict[str, str]:
    """``variable → table name`` for every ``x = Table("name", ...)`` in ``path``."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "Table"
            and node.value.args
            and isinstance(node.value.args[0], ast.Constant)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = str(node.value.args[0].value)
    return found


def _table_references(path: Path, names: set[str], variables: set[str]) -> set[tuple[str, str]]:
    """("variable"|"name", what) for each table ``path`` reaches: a table variable imported from
    another storage module or read as ``module.variable``, or a table name looked up by string
    (``metadata.tables["x"]``, ``metadata.tables.get("x")``, a helper with "table" in its name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[tuple[str, str]] = set()
    storage_modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("storage"):
            for alias in node.names:
                if alias.name in variables:
                    found.add(("variable", alias.name))
                storage_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            storage_modules.update(a.asname or a.name for a in node.names if a.name.startswith("storage."))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in variables:
            base = ast.unparse(node.value)
            if base in storage_modules or base.startswith("storage."):
                found.add(("variable", node.attr))
        elif isinstance(node, ast.Call):
            callee = ast.unparse(node.func)
            if "table" in callee.lower():
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value in names:
                        found.add(("name", str(arg.value)))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("tables"):
            if isinstance(node.slice, ast.Constant) and node.slice.value in names:
                found.add(("name", str(node.slice.value)))
    return found


def test_storage_of_a_feature_never_reads_another_features_tables() -> None:
    owner_of_variable: dict[str, str] = {}
    owner_of_name: dict[str, str] = {}
    for path in _storage_files():
        owner = _storage_owner(_storage_unit(path))
        for variable, name in _defined_tables(path).items():
            owner_of_variable[variable] = owner
            owner_of_name[name] = owner
    assert {"checkins", "mod_alerts", "activity_attendance", "groups"} <= set(owner_of_name), (
        "the table scan found too little: has the way tables are defined changed?"
    )
    offenders = []
    for path in _storage_files():
        owner = _storage_owner(_storage_unit(path))
        for kind, what in sorted(_table_references(path, set(owner_of_name), set(owner_of_variable))):
            other = (owner_of_variable if kind == "variable" else owner_of_name)[what]
            if other not in (owner, "core"):
                offenders.append(f"{path.relative_to(ROOT)} ({owner}) reads {what} of feature {other}")
    assert offenders == [], (
        "A feature's storage reads only its own tables and the core's (storage/schema.py). To "
        "use another feature's figures, add the query to that feature's views module "
        "(storage/<owner>_views.py), publish it through a port the owner provides (bot/ports.py, "
        "Feature.provides), and pass the result into your repository from your handlers. "
        f"Offenders: {offenders}"
    )


_PORT_CALL = re.compile(r"\.ports\.(get|find)\(\s*([A-Za-z_][\w.]*)\s*\)")


def _feature_units() -> dict[str, list[Feature]]:
    """handlers unit (package or module) → the features defined in it."""
    import importlib

    units: dict[str, list[Feature]] = {}
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        unit = _handlers_unit(path)
        if unit is None:
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        module = importlib.import_module(name)
        feature = getattr(module, "FEATURE", None)
        if isinstance(feature, Feature) and feature in FEATURES and feature not in units.get(unit, []):
            units.setdefault(unit, []).append(feature)
    return units


def test_every_port_a_feature_asks_for_is_declared() -> None:
    units = _feature_units()
    assert {f.name for fs in units.values() for f in fs} == {f.name for f in FEATURES}
    offenders = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        unit = _handlers_unit(path)
        if unit is None:
            continue
        features = units.get(unit, [])
        required = {p.__name__ for f in features for p in f.requires}
        used = {p.__name__ for f in features for p in f.uses}
        names = ", ".join(f.name for f in features) or f"no feature in handlers/{unit}"
        for call, port in _PORT_CALL.findall(path.read_text(encoding="utf-8")):
            port = port.rsplit(".", 1)[-1]
            if call == "get" and port not in required:
                hint = "requires=" if port not in used else "requires= (it is in uses=: use ports.find)"
                offenders.append(
                    f"{path.relative_to(ROOT)}: ports.get({port}) but {names} lacks it in {hint}"
                )
            elif call == "find" and port not in required | used:
                offenders.append(f"{path.relative_to(ROOT)}: ports.find({port}) but {names} lists it nowhere")
    assert offenders == [], (
        "Every port a feature asks for is declared on its Feature, so the bot can refuse to start "
        "when it is missing and a reader sees the dependency: ports.get(P) needs P in requires= "
        "(start fails without a provider), ports.find(P) needs P in uses= (optional: handle None) "
        f"or requires=. Offenders: {offenders}"
    )


def test_every_declared_port_is_a_protocol_in_bot_ports() -> None:
    import bot.ports

    offenders = [
        f"{f.name}: {p!r}"
        for f in FEATURES
        for p in (*f.requires, *f.uses)
        if getattr(bot.ports, getattr(p, "__name__", ""), None) is not p
    ]
    assert offenders == [], (
        f"Ports are typed Protocols defined in bot/ports.py (one place to read them all): {offenders}"
    )


async def test_a_listed_feature_without_its_required_port_stops_the_start(tmp_path: Path) -> None:
    from bot.app import App
    from bot.config import parse_settings
    from bot.port_registry import PortMissing

    settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}})
    # modchat requires AuditTrail, which only moderation provides.
    app = App(settings, adapters=[], features=[f for f in FEATURES if f.name != "moderation"])
    try:
        with pytest.raises(PortMissing, match="feature 'modchat' requires the port AuditTrail"):
            await app.start()
    finally:
        if app.db is not None:
            await app.db.close()


async def test_optional_ports_let_a_feature_start_without_their_provider(tmp_path: Path) -> None:
    from bot.app import App
    from bot.config import parse_settings

    settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}})
    # Stats and the planning features only use check-in, moderation and events: all start without.
    # (Communities require moderation's sanctions, so they go with it.)
    dropped = {"checkin", "moderation", "modchat", "events", "community"}
    app = App(settings, adapters=[], features=[f for f in FEATURES if f.name not in dropped])
    await app.start()
    await app.stop()


#: A product file past this many lines holds more than one thing (DESIGN.md asks for about 600;
#: every product file is under it since issue 14's last splits, so the ceiling is 600 now).
MAX_LINES = 600

#: Known debts: files already past the ceiling when it was introduced (issue 14, "One shape for
#: every feature"). Each is to be split by what it holds, then deleted from this list; the test
#: fails on an entry that is back under the ceiling, so the list only ever shrinks. Nothing may
#: be added here: split the new file instead.
OVER_CEILING: set[str] = set()


def _product_lengths() -> dict[str, int]:
    """Line counts of product modules, migrations excepted (generated history, never edited)."""
    lengths: dict[str, int] = {}
    for path in _product_files():
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel:
            continue
        lengths[rel] = len(path.read_text(encoding="utf-8").splitlines())
    return lengths


def test_product_files_stay_under_the_line_ceiling() -> None:
    too_long = [
        f"{rel}: {n} lines"
        for rel, n in sorted(_product_lengths().items())
        if n > MAX_LINES and rel not in OVER_CEILING
    ]
    assert too_long == [], (
        f"product files over {MAX_LINES} lines: {too_long}. Split each by what it holds, following "
        "DESIGN.md's feature template (handlers/<feature>/commands.py, listeners.py, jobs.py, "
        "state.py, settings.py, more command modules registering on the same router like "
        "handlers/checkin/shop_commands.py; storage/<feature>/ with one repository module per "
        "aggregate and tables.py; an adapter's connection, command menu and rendering in their own "
        "modules like adapters/telegram/), rather than raising the ceiling or adding to OVER_CEILING."
    )


def test_line_ceiling_debts_are_still_debts() -> None:
    lengths = _product_lengths()
    settled = sorted(rel for rel in OVER_CEILING if lengths.get(rel, 0) <= MAX_LINES)
    assert settled == [], (
        f"{settled} no longer exceed {MAX_LINES} lines (or are gone): delete them from "
        "OVER_CEILING in tests/test_architecture.py so they cannot grow back."
    )


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


# ---------------------------------------------------------------- typed settings

_STRING_SETTING_READ = re.compile(r"settings\.get\(|ctx\.setting\(|SettingSpec\(")


def test_handlers_read_settings_through_their_typed_models() -> None:
    offenders = []
    for path in (ROOT / "handlers").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _STRING_SETTING_READ.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], (
        "settings read by string key: "
        + "; ".join(offenders)
        + ". Declare the feature's settings as one FeatureSettings model (handlers/<f>/settings.py, "
        "Feature(settings=...)) and read `(await ctx.settings(Model)).field`, or "
        "`await services.settings.of(group_id, Model)` in jobs."
    )


#: Settings written by key. Handlers write through the model (``services.settings.write(group,
#: Model, by, now, field=value)``, ``restore(group, Model, "field")``); only /set and /reset in
#: handlers/core.py write by key, because the key is what the moderator typed.
_STRING_SETTING_WRITE = re.compile(r"settings\.(set|reset)\(")
_WRITES_BY_TYPED_KEY = {"handlers/core.py"}


def test_handlers_write_settings_through_their_typed_models() -> None:
    offenders = []
    for path in (ROOT / "handlers").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in _WRITES_BY_TYPED_KEY:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _STRING_SETTING_WRITE.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == [], (
        "settings written by string key: "
        + "; ".join(offenders)
        + ". Write through the feature's model: `await services.settings.write(group_id, Model, "
        "by, now, field=value)` (validated against the model; a wrong field name fails at once) "
        'and `await services.settings.restore(group_id, Model, "field")` for back-to-default.'
    )


def test_every_feature_declares_its_settings_as_one_model() -> None:
    from bot.settings import FeatureSettings

    keys: dict[str, str] = {}
    for feature in FEATURES:
        if feature.settings is None:
            continue
        assert issubclass(feature.settings, FeatureSettings), feature.name
        for name, info in feature.settings.model_fields.items():
            key = feature.settings.key_of(name)
            assert key not in keys, f"{key} declared by {keys[key]} and {feature.name}"
            keys[key] = feature.name
            assert info.description, f"{key} has no description (/settings and the docs show it)"


def test_services_are_whole_when_built() -> None:
    """Handlers never None-check a service: nothing in ``Services`` is Optional or filled later."""
    import dataclasses

    from bot.services import Services

    optional = [f.name for f in dataclasses.fields(Services) if "None" in str(f.type)]
    assert optional == [], (
        f"Services.{optional} may be None: build the service before Services (or in its "
        "__post_init__) and pass it in, so no handler has to check."
    )


# ---------------------------------------------------------------- declared commands

_RAW_ARGS = re.compile(r"\bctx\.(args|arg_text)\b")


def test_handlers_never_read_raw_command_words() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "handlers").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _RAW_ARGS.search(line)
    ]
    assert offenders == [], (
        "Handlers must not read the typed words (ctx.args[...], ctx.arg_text): declare the "
        "command's arguments instead, e.g. @router.command('give', args=[Member('target'), "
        "Amount('amount')]) and `async def give(ctx, target, amount)`, or subcommands with "
        "router.group(...).sub(...). The dispatcher converts them (bot/params.py) before the "
        "handler runs, words the usage error in the member's language, and feeds /help and the "
        "Discord slash options from the same declaration. A listener that needs a command's "
        f"values reads ctx.params. Offenders: {offenders}"
    )


def test_every_command_handler_takes_exactly_its_declared_arguments() -> None:
    """Checked at registration too (Router raises TypeError); this names every command."""
    import inspect

    from bot.router import CommandTable

    table = CommandTable([f.router for f in FEATURES], ("/",))
    wrong = []
    for command in table.all():
        forms = [(command.name, command.handler, command.args)] + [
            (f"{command.name} {s.name}", s.handler, s.args) for s in command.subcommands
        ]
        for name, handler, params in forms:
            if handler is None:
                continue
            taken = list(inspect.signature(handler).parameters)[1:]
            if sorted(taken) != sorted(p.name for p in params):
                wrong.append(f"/{name}: takes {taken}, declares {[p.name for p in params]}")
    assert wrong == []
