"""``python -m bot`` (and the ``qunyou`` script): run, console, web, bench, db, export."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import signal
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from bot.clock import parse_instant
from bot.config import Settings, load_settings, sqlite_file
from bot.errors import ConfigError, QunyouError

DEFAULT_CONFIG = Path("config.toml")
#: How long ``bot run`` gives its graceful stop after SIGTERM (below systemd's and compose's 30 s).
STOP_DEADLINE = 25.0

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Qunyou (群友) community bot")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", help="log everything (debug)")
    loudness.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the configured adapters (the console when none)")
    run.add_argument("--config", type=Path, help="config file (default: ./config.toml if present)")

    console = sub.add_parser("console", help="chat with the bot in a terminal, or run a script")
    console.add_argument("--script", help="JSON-lines script file, or - for standard input")
    console.add_argument("--clock", help="start a virtual clock at this ISO-8601 instant")
    console.add_argument("--db", type=Path, help="SQLite file to keep state in (default: a fresh one)")
    console.add_argument("--config", type=Path, help="config file")
    console.add_argument("--demo", action="store_true", help="start with a seeded demo group")

    web = sub.add_parser("web", help="serve the operators' dashboard on a bot's database")
    where = web.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, help="the SQLite file a console or bot uses")
    where.add_argument("--config", type=Path, help="config file (its [storage] and [web])")
    web.add_argument("--host", help="address to listen on (default: [web] host, 127.0.0.1)")
    web.add_argument("--port", type=int, help="port (default: [web] port, 8080)")

    bench = sub.add_parser("bench", help="measure throughput and latency")
    bench.add_argument(
        "section",
        nargs="?",
        default="default",
        help="core and start-up figures (default), all, or one section (core, startup, checkin, …)",
    )
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="section options")

    export = sub.add_parser("export", help="export data for operators (stats)")
    export.add_argument("what", choices=["stats"], help="what to export")
    export.add_argument("rest", nargs=argparse.REMAINDER, help="options; see: export stats --help")

    moderation = sub.add_parser("moderation", help="lexicon tools for operators (eval)")
    moderation.add_argument("rest", nargs=argparse.REMAINDER, help="see: moderation eval --help")
    giveaway = sub.add_parser("giveaway", help="check a giveaway's draw (docs/engagement.md)")
    giveaway_sub = giveaway.add_subparsers(dest="giveaway_command", required=True)
    verify = giveaway_sub.add_parser("verify", help="re-run a draw from its revealed seed and entrant list")
    verify.add_argument("seed", help="the seed revealed at the draw")
    verify.add_argument("entrants", type=Path, help="the entrant list (/giveaway proof ID), as CSV")
    verify.add_argument("--winners", type=int, default=1, help="how many winners the giveaway had")
    verify.add_argument("--commitment", help="the SHA-256 shown when the giveaway started, to check too")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("--config", type=Path)
    backup = db_sub.add_parser("backup", help="copy the SQLite database while the bot runs")
    backup.add_argument("path", type=Path)
    backup.add_argument("--config", type=Path)
    return parser


def _settings(path: Path | None, *, default_if_missing: bool = True) -> Settings:
    if path is None and default_if_missing and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return load_settings(path)


def _usable_sqlite(path: Path, what: str) -> Path:
    """``path`` when a SQLite file can live there; else a one-line ``ConfigError`` saying why
    (a directory given for a file ended in a 165-line traceback from deep in SQLAlchemy)."""
    if path.is_dir():
        raise ConfigError(f"{what}: {path} is a directory; name a file in it, e.g. {path / 'qunyou.db'}")
    if path.parent.exists() and not path.parent.is_dir():
        raise ConfigError(f"{what}: {path.parent} is not a directory")
    return path


def _check_storage(settings: Settings) -> Settings:
    """Fail early, in one line, when the configured SQLite path cannot be a database file."""
    path = sqlite_file(settings.storage.url)
    if path is not None:
        _usable_sqlite(path, "storage.url")
    return settings


def _clock(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        parse_instant(text)
    except ValueError as exc:
        raise ConfigError(f"--clock: {exc}") from None
    return value


async def _run(settings: Settings) -> int:
    from bot.app import App

    if not settings.adapters:
        if settings.source is not None:
            # A config file without adapters: opening the console silently left operators
            # waiting for a Telegram bot that never started (issue 21).
            print(
                f"no adapter is configured in {settings.source}: add an [adapters.<name>] section "
                '(type = "telegram", "discord", "onebot" or "wecom_robot"; config.example.toml '
                "documents each), or chat with the bot in this terminal with "
                f"`python -m bot console --config {settings.source}`.",
                file=sys.stderr,
            )
            return 2
        from adapters.console.repl import run_repl

        return await run_repl(settings, start=None, demo=False, make_app=App)
    from bot import logs

    logs.configure(settings.logging.format)
    log.info("starting %d adapter(s) with %s", len(settings.adapters), settings.source or "defaults")
    app = App(settings)
    await app.start()
    server = None
    if settings.web.enabled or settings.web.metrics:
        # Lazily: the web side (starlette, uvicorn) loads only when configured.
        from web import WebServer, create_app

        pages = []
        if settings.web.enabled:
            from web.app import dashboard_routes

            assert app.services is not None
            pages = dashboard_routes(app.services)
        server = WebServer(create_app(app, extra_routes=pages), settings.web.host, settings.web.port)
        try:
            await server.start()
        except OSError as exc:
            await app.stop()
            raise ConfigError(f"web: {exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - Windows
            pass
    code = 0
    try:
        await stop.wait()
    finally:
        # The graceful stop (App.stop): no new updates, in-flight ones finished, batches flushed,
        # the scheduler's runs completed; /readyz answers 503 meanwhile, then the server goes.
        # Bounded: past the deadline the process exits anyway, and a run it still held is taken
        # over by another worker (or by this one's restart), as after a crash.
        try:
            await asyncio.wait_for(app.stop(), STOP_DEADLINE)
        except TimeoutError:
            logging.getLogger(__name__).error(
                "graceful stop took longer than %.0f s; exiting with work in hand", STOP_DEADLINE
            )
            code = 1
        if server is not None:
            await server.stop()
    return code


async def _console(args: argparse.Namespace) -> int:
    # The console runners get the app wiring from here: adapters never import bot.app.
    from bot.app import App

    settings = _settings(args.config, default_if_missing=False)
    start = _clock(args.clock)
    if args.script:
        from adapters.console.script import run_script, script_lines

        # Both read as bytes through script_lines: the same splitting and decoding either way.
        source: Iterable[bytes] = sys.stdin.buffer
        if args.script != "-":
            try:
                source = io.BytesIO(await asyncio.to_thread(Path(args.script).read_bytes))
            except FileNotFoundError:
                raise ConfigError(f"--script: no such file {args.script}") from None
        lines = script_lines(source)
        if args.db is not None:
            _usable_sqlite(args.db, "--db")
        return await run_script(
            lines, settings=settings, start=start, db_path=args.db, out=sys.stdout, make_app=App
        )
    from adapters.console.repl import run_repl

    if args.db is not None:
        _usable_sqlite(args.db, "--db")
        settings = settings.model_copy(
            update={"storage": settings.storage.model_copy(update={"url": f"sqlite+aiosqlite:///{args.db}"})}
        )
        return await run_repl(settings, start=start, demo=args.demo, make_app=App)
    if "url" in settings.storage.model_fields_set:
        # --config names a database: use it, as a scripted run does (a console worker on it).
        return await run_repl(settings, start=start, demo=args.demo, make_app=App)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qunyou-") as tmp:
        settings = settings.model_copy(
            update={
                "storage": settings.storage.model_copy(
                    update={"url": f"sqlite+aiosqlite:///{tmp}/console.db"}
                )
            }
        )
        return await run_repl(settings, start=start, demo=args.demo, make_app=App)


async def _web(args: argparse.Namespace) -> int:
    """``web``: the dashboard on its own, beside a running console or bot on the same database.

    A serve-only app (``App(serve_only=True)``): the same services and ports, no adapters, no
    scheduler, no claim on the SQLite file. Actions that need the platform (ban, undo) say so.
    """
    from bot.app import App
    from web import WebServer, create_app
    from web.app import dashboard_routes

    settings = _settings(args.config, default_if_missing=args.db is None)
    if args.db is not None:
        _usable_sqlite(args.db, "--db")
        if not args.db.is_file():
            raise ConfigError(f"--db: no database at {args.db}; start the console or the bot on it first")
        url = f"sqlite+aiosqlite:///{args.db}"
        settings = settings.model_copy(update={"storage": settings.storage.model_copy(update={"url": url})})
    _check_storage(settings)
    updates: dict[str, object] = {}
    if args.host:
        updates["host"] = args.host
    if args.port is not None:
        if not 0 <= args.port <= 65535:
            raise ConfigError(f"--port: {args.port} is not a port (0..65535)")
        updates["port"] = args.port
    web_settings = settings.web.model_copy(update=updates)
    app = App(settings, serve_only=True)
    await app.start()
    assert app.services is not None
    server = WebServer(
        create_app(app, extra_routes=dashboard_routes(app.services)), web_settings.host, web_settings.port
    )
    try:
        await server.start()
    except OSError as exc:
        await app.stop()
        raise ConfigError(f"web: {exc}") from None
    print(
        f"dashboard on http://{web_settings.host}:{server.port}/ (links: {settings.web.base_url})", flush=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - Windows
            pass
    try:
        await stop.wait()
    finally:
        await server.stop()
        await app.stop()
    return 0


async def _db(args: argparse.Namespace) -> int:
    from storage import Database

    settings = _check_storage(_settings(args.config))
    if args.db_command == "backup":
        source = sqlite_file(settings.storage.url)
        if source is not None and not source.is_file():
            # Opening it would create an empty database and "back up" that (issue 21).
            where = f" (storage.url in {settings.source})" if settings.source else ""
            print(
                f"db backup: no database at {source}{where}; nothing to back up. "
                "The bot creates it at its first start.",
                file=sys.stderr,
            )
            return 1
        _usable_sqlite(args.path, "db backup")
        if source is not None and args.path.resolve() == source.resolve():
            raise ConfigError("db backup: the backup would overwrite the database itself")
    db = Database(settings.storage.url)
    try:
        if args.db_command == "upgrade":
            from storage.workers import migrate_exclusively

            await migrate_exclusively(db)
            print(f"database at {settings.storage.url} is up to date")
        else:
            if not db.is_sqlite:
                print("backup works on SQLite; for PostgreSQL use pg_dump", file=sys.stderr)
                return 2
            db.backup(args.path)
            print(f"backed up to {args.path}")
    finally:
        await db.close()
    return 0


async def _export(args: argparse.Namespace) -> int:
    from handlers.stats.export import main as export_main
    from storage import Database
    from storage.checkin_views import CheckinViews

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path)
    pre.add_argument("--db", type=Path, help="a SQLite file instead of the configured storage")
    known, rest = pre.parse_known_args(args.rest)
    url = f"sqlite+aiosqlite:///{known.db}" if known.db else _settings(known.config).storage.url
    db = Database(url)
    try:
        await db.migrate()
        # No running bot here, so no ports: the export gets check-in counts from the view the
        # check-in feature publishes (the one behind its CheckinFacts port).
        return await export_main(db, rest, checkins=CheckinViews(db).checkins_per_day)
    finally:
        await db.close()


def _bench(args: argparse.Namespace) -> int:
    """``bench``: run a section of the top-level ``bench`` package (``bench/runner.py``).

    The one import of ``bench`` in product code, and a lazy one: the bot never loads benchmark
    code unless asked to measure itself. ``tests/test_architecture.py`` allows exactly this
    function to import it.
    """
    import bench

    return asyncio.run(bench.main(args.section, list(args.rest)))


#: Libraries whose INFO lines are per-request or per-migration-plugin chatter, not start-up news.
_CHATTY = ("alembic", "httpx", "httpcore", "aiosqlite", "discord.http")


def _configure_logging(args: argparse.Namespace) -> None:
    """Log levels: ``run`` logs at INFO by default (start-up, each adapter's connection, each
    chat seen: the README sends operators to the log for chat ids); the console and the other
    commands at WARNING, since their output is the conversation or the result. ``-q`` keeps
    warnings and errors only, ``-v`` logs everything at DEBUG."""
    if args.verbose:
        level = logging.DEBUG
    elif args.quiet or args.command != "run":
        level = logging.WARNING
    else:
        level = logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for name in _CHATTY:
        # DEBUG from aiosqlite is one line per statement: too much even for -v.
        logging.getLogger(name).setLevel(
            logging.INFO if args.verbose and name != "aiosqlite" else logging.WARNING
        )


def _verify_giveaway(args: argparse.Namespace) -> int:
    """Print the draw's ranking and winners from a revealed seed; 1 when the commitment differs."""
    from bot import fairdraw

    try:
        entrants = fairdraw.read_entrants(args.entrants.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        print(f"cannot read {args.entrants}: {exc}", file=sys.stderr)
        return 2
    if args.commitment is not None and fairdraw.commitment(args.seed) != args.commitment.strip().lower():
        print(f"the seed does not match the commitment: its SHA-256 is {fairdraw.commitment(args.seed)}")
        return 1
    ranking = fairdraw.ranking(args.seed, entrants)
    print(f"seed SHA-256: {fairdraw.commitment(args.seed)}")
    print(f"entrants: {len(ranking)}; the first {args.winners} win, rerolls take the next places in order")
    for place, entrant in enumerate(ranking, start=1):
        mark = "  winner" if place <= args.winners else ""
        print(f"{place}\t{entrant}\t{fairdraw.ticket(args.seed, entrant)}{mark}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    _configure_logging(args)
    try:
        if args.command == "run":
            return asyncio.run(_run(_check_storage(_settings(args.config))))
        if args.command == "console":
            return asyncio.run(_console(args))
        if args.command == "bench":
            return _bench(args)
        if args.command == "web":
            return asyncio.run(_web(args))
        if args.command == "db":
            return asyncio.run(_db(args))
        if args.command == "export":
            return asyncio.run(_export(args))
        if args.command == "moderation":
            from handlers.moderation.evaluate import main as moderation_main

            return moderation_main(args.rest)
        if args.command == "giveaway":
            return _verify_giveaway(args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except QunyouError as exc:
        # A platform unreachable or refusing at start: say so plainly, no traceback.
        print(f"could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2
