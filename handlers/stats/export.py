"""``python -m bot export stats --group ID --from DATE --to DATE --format csv|json [--out FILE]``.

One row per local day: messages, replies, commands, joins, leaves, check-ins, DAU, WAU, MAU.
Only complete days are exported (today is still moving); days without activity are zeros.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.args import decode_id
from bot.clock import Clock, SystemClock, local_day
from storage import Database, GroupRepo
from storage.models import Group
from storage.stats import CheckinCounter, StatsRepo

COLUMNS = ("day", "messages", "replies", "commands", "joins", "leaves", "checkins", "dau", "wau", "mau")
MAX_DAYS = 3660


class ExportError(Exception):
    """A bad request an operator can fix; the message says how."""


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One exported day."""

    day: str
    messages: int
    replies: int
    commands: int
    joins: int
    leaves: int
    checkins: int
    dau: int
    wau: int
    mau: int


async def find_group(db: Database, token: str) -> Group:
    """A group by internal id, ``adapter:scope_id``, or a scope id unique across adapters."""
    repo = GroupRepo(db)
    groups = await repo.all()
    group_id = decode_id(token)
    if group_id is not None:
        for g in groups:
            if g.id == group_id:
                return g
    adapter, sep, scope = token.partition(":")
    if sep:
        for g in groups:
            if g.adapter == adapter and g.scope_id == scope:
                return g
    matches = [g for g in groups if g.scope_id == token]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ExportError(f"group {token!r} exists on several adapters; write ADAPTER:{token}")
    known = ", ".join(f"{g.id} ({g.adapter}:{g.scope_id})" for g in groups) or "none yet"
    raise ExportError(f"unknown group {token!r}; known groups: {known}")


async def export_rows(
    db: Database, group: Group, start: date, end: date, today: date, checkins: CheckinCounter | None = None
) -> list[ExportRow]:
    """The day rows of ``start``…``end``, clipped to complete days.

    ``checkins`` counts check-ins for days not rolled up yet (the check-in feature's
    ``CheckinFacts.checkins_per_day``); without it such days export 0 check-ins.
    """
    if end < start:
        raise ExportError(f"--from {start} is after --to {end}; swap them")
    last = min(end, today - timedelta(days=1))
    if last < start:
        raise ExportError(
            f"no complete day between {start} and {end} yet (today is {today} in {group.timezone})"
        )
    if (last - start).days >= MAX_DAYS:
        raise ExportError(f"at most {MAX_DAYS} days at a time")
    repo = StatsRepo(db, checkins=checkins)
    await repo.ensure_rollups(group.id, start, last)
    rows = {r.day: r for r in await repo.daily(group.id, start, last)}
    out = []
    day = start
    while day <= last:
        r = rows.get(day)
        out.append(
            ExportRow(
                day=day.isoformat(),
                messages=r.messages if r else 0,
                replies=r.replies if r else 0,
                commands=r.commands if r else 0,
                joins=r.joins if r else 0,
                leaves=r.leaves if r else 0,
                checkins=r.checkins if r else 0,
                dau=r.dau if r else 0,
                wau=await repo.distinct_active(group.id, day, 7),
                mau=await repo.distinct_active(group.id, day, 30),
            )
        )
        day += timedelta(days=1)
    return out


def render(rows: Sequence[ExportRow], fmt: str, group: Group) -> str:
    """CSV (a header and one line a day) or JSON (the group and a list of days)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
        return buffer.getvalue()
    if fmt == "json":
        doc = {
            "group": {
                "id": group.id,
                "adapter": group.adapter,
                "scope_id": group.scope_id,
                "timezone": group.timezone,
            },
            "days": [asdict(r) for r in rows],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    raise ExportError(f"unknown format {fmt!r}; use csv or json")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-01") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``export stats``."""
    parser.add_argument("--group", required=True, help="internal id, ADAPTER:SCOPE_ID, or SCOPE_ID")
    parser.add_argument("--from", dest="start", required=True, type=_date, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, type=_date, help="last day, YYYY-MM-DD")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--out", type=Path, help="write here instead of standard output")


async def run_export(
    db: Database, args: argparse.Namespace, clock: Clock | None = None, checkins: CheckinCounter | None = None
) -> str:
    """Run an export on an open database; returns the document (raises ``ExportError``)."""
    group = await find_group(db, str(args.group))
    today = local_day((clock or SystemClock()).now(), group.timezone)
    rows = await export_rows(db, group, args.start, args.end, today, checkins)
    return render(rows, args.format, group)


async def main(
    db: Database, argv: Sequence[str], clock: Clock | None = None, checkins: CheckinCounter | None = None
) -> int:
    """Entry point for ``python -m bot export stats ...`` on an already migrated database;
    ``checkins`` as for ``export_rows``."""
    parser = argparse.ArgumentParser(prog="python -m bot export stats")
    add_arguments(parser)
    args = parser.parse_args(list(argv))
    try:
        text = await run_export(db, args, clock, checkins)
    except ExportError as exc:
        print(f"export stats: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
