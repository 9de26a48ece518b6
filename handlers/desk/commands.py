"""``/faq``: moderators manage the group's FAQ; members may list it.

The router lives here; ``listeners`` attaches the automatic answers and the vote buttons.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.args import BadArgument, UsageError, parse_duration
from bot.context import Context
from bot.messages import Button, OutgoingMessage, Text
from bot.params import Id, Rest
from bot.roles import Role
from bot.router import Router
from handlers.desk.match import Fold, tokens
from handlers.desk.settings import DeskSettings
from handlers.desk.spec import (
    AUDIENCES,
    COOLDOWN_MAX,
    SpecError,
    check,
    parse_csv,
    parse_lang,
    parse_spec,
    split_mode,
    to_csv,
)
from handlers.desk.state import ANSWER_WINDOW, get_state
from storage.desk import FaqRow, QuestionRow

if TYPE_CHECKING:
    from bot.services import Services

router = Router("desk")

#: Most entries one group may keep (matching stays within the benchmark's budget).
FAQ_MAX = 2000
#: Entries shown by ``/faq list`` and ``/faq stats`` in one message.
LIST_MAX = 40
#: How many refused import lines are named.
ERRORS_SHOWN = 10

faq = router.group("faq", aliases=("问答",), usage="desk.faq.usage", help="desk.faq.help")


def _refusal(exc: SpecError) -> BadArgument:
    return BadArgument(exc.key, **exc.values)


def _excerpt(text: str, size: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _describe(ctx: Context, row: FaqRow) -> str:
    return ctx.t(
        "desk.faq.item",
        id=row.id,
        mode=ctx.t(f"desk.faq.mode_{row.mode}"),
        triggers=_excerpt("; ".join(row.triggers), 60),
        answer=_excerpt(row.answer),
    )


@faq.sub("add", aliases=("添加",), args=[Rest("spec", limit=4000)], min_role=Role.MODERATOR)
async def faq_add(ctx: Context, spec: str) -> None:
    """``/faq add [keyword|exact|regex|question] TRIGGER; … | ANSWER``."""
    assert ctx.group is not None
    state = get_state(ctx.services)
    try:
        parsed = parse_spec(spec)
        mode = parsed.mode or "keyword"
        assert parsed.triggers is not None and parsed.answer is not None
        check(mode, parsed.triggers, parsed.answer, state.fold)
    except SpecError as exc:
        raise _refusal(exc) from None
    if await state.repos.faq.count(ctx.group.id) >= FAQ_MAX:
        raise BadArgument("desk.faq.full", max=FAQ_MAX)
    cooldown = (await ctx.settings(DeskSettings)).faq_cooldown
    entry_id = await state.repos.faq.add(
        ctx.group.id,
        mode,
        parsed.triggers,
        parsed.answer,
        lang=None,
        cooldown=cooldown,
        by=ctx.user.user_id,
        at=ctx.now,
    )
    state.changed(ctx.group.id)
    await state.audit(ctx.group.id, ctx.now, ctx.user.user_id, "faq_add", f"entry={entry_id}")
    await ctx.reply(
        ctx.t("desk.faq.added", id=entry_id, mode=ctx.t(f"desk.faq.mode_{mode}"), count=len(parsed.triggers))
    )


@faq.sub("edit", aliases=("修改",), args=[Id("entry"), Rest("spec", limit=4000)], min_role=Role.MODERATOR)
async def faq_edit(ctx: Context, entry: int, spec: str) -> None:
    """``/faq edit ID [mode] [TRIGGERS] | [ANSWER]``, ``/faq edit ID cooldown 2m``,
    ``/faq edit ID lang en|zh-CN|any``, ``/faq edit ID who all|members|newcomers``."""
    assert ctx.group is not None
    state = get_state(ctx.services)
    row = await state.repos.faq.get(ctx.group.id, entry)
    if row is None:
        raise BadArgument("desk.faq.unknown", id=entry)
    head, _, rest = spec.strip().partition(" ")
    word = head.lower()
    if word in ("cooldown", "冷却"):
        seconds = _cooldown(rest)
        await state.repos.faq.update(ctx.group.id, entry, ctx.now, cooldown=seconds)
        detail = f"cooldown={seconds}"
    elif word in ("lang", "语言"):
        ok, lang = parse_lang(rest)
        if not ok:
            raise BadArgument("desk.faq.err_bad_lang", value=_excerpt(rest, 20))
        await state.repos.faq.update(ctx.group.id, entry, ctx.now, lang=lang, clear_lang=lang is None)
        detail = f"lang={lang or 'any'}"
    elif word in ("who", "对象"):
        audience = AUDIENCES.get(rest.strip().lower())
        if audience is None:
            raise BadArgument("desk.faq.err_bad_who", value=_excerpt(rest, 20))
        await state.repos.faq.update(ctx.group.id, entry, ctx.now, audience=audience)
        detail = f"who={audience}"
    else:
        try:
            mode, _ = split_mode(spec)
            parsed = parse_spec(spec, partial=True) if ("|" in spec or "｜" in spec) else None
            if parsed is None and mode is None:
                raise SpecError("no_bar")
            mode = (parsed.mode if parsed else mode) or row.mode
            triggers = (parsed.triggers if parsed else None) or row.triggers
            answer = (parsed.answer if parsed else None) or row.answer
            check(mode, triggers, answer, state.fold)
        except SpecError as exc:
            raise _refusal(exc) from None
        await state.repos.faq.update(
            ctx.group.id, entry, ctx.now, mode=mode, triggers=triggers, answer=answer
        )
        detail = f"mode={mode}"
    state.changed(ctx.group.id)
    await state.audit(ctx.group.id, ctx.now, ctx.user.user_id, "faq_edit", f"entry={entry} {detail}")
    updated = await state.repos.faq.get(ctx.group.id, entry)
    assert updated is not None
    await ctx.reply(
        ctx.t("desk.faq.edited", id=entry) + "\n" + _describe(ctx, updated) + _extras(ctx, updated)
    )


def _cooldown(word: str) -> int:
    word = word.strip()
    if not word:
        raise UsageError()
    if word.isdecimal():
        seconds = int(word)
    else:
        try:
            seconds = int(parse_duration(word).total_seconds())
        except BadArgument:
            raise BadArgument(
                "desk.faq.err_bad_cooldown", value=_excerpt(word, 20), max=COOLDOWN_MAX
            ) from None
    if seconds > COOLDOWN_MAX:
        raise BadArgument("desk.faq.err_bad_cooldown", value=_excerpt(word, 20), max=COOLDOWN_MAX)
    return seconds


def _extras(ctx: Context, row: FaqRow) -> str:
    lang = row.lang or ctx.t("desk.faq.lang_any")
    who = ctx.t(f"desk.faq.who_{row.audience}")
    return "\n" + ctx.t("desk.faq.extras", cooldown=_seconds(row.cooldown), lang=lang, who=who)


def _seconds(value: int) -> str:
    return str(timedelta(seconds=value)) if value >= 60 else f"{value}s"


@faq.sub("remove", aliases=("del", "delete", "rm", "删除"), args=[Id("entry")], min_role=Role.MODERATOR)
async def faq_remove(ctx: Context, entry: int) -> None:
    """``/faq remove ID``."""
    assert ctx.group is not None
    state = get_state(ctx.services)
    if not await state.repos.faq.remove(ctx.group.id, entry):
        raise BadArgument("desk.faq.unknown", id=entry)
    state.changed(ctx.group.id)
    await state.audit(ctx.group.id, ctx.now, ctx.user.user_id, "faq_remove", f"entry={entry}")
    await ctx.reply(ctx.t("desk.faq.removed", id=entry))


@faq.sub("list", aliases=("列表",))
async def faq_list(ctx: Context) -> None:
    """``/faq list``: every entry (members may read it too)."""
    assert ctx.group is not None
    rows = await get_state(ctx.services).repos.faq.entries(ctx.group.id)
    if not rows:
        await ctx.reply(ctx.t("desk.faq.empty"))
        return
    lines = [ctx.t("desk.faq.list_title", count=len(rows))]
    lines += [_describe(ctx, r) for r in rows[:LIST_MAX]]
    if len(rows) > LIST_MAX:
        lines.append(ctx.t("desk.faq.more", count=len(rows) - LIST_MAX))
    await ctx.reply("\n".join(lines))


@faq.sub("test", aliases=("测试",), args=[Rest("text", limit=4000)], min_role=Role.MODERATOR)
async def faq_test(ctx: Context, text: str) -> None:
    """``/faq test TEXT``: which entry would answer, and why (or why none)."""
    assert ctx.group is not None
    state = get_state(ctx.services)
    compiled = await state.faq(ctx.group.id)
    threshold = (await ctx.settings(DeskSettings)).faq_threshold
    found, near = await asyncio.to_thread(compiled.index.explain, text, threshold=threshold, lang=ctx.lang)
    if found is not None:
        row = compiled.rows[found.entry_id]
        key = "desk.faq.test_question" if found.mode == "question" else "desk.faq.test_hit"
        reason = ctx.t(
            key,
            id=row.id,
            mode=ctx.t(f"desk.faq.mode_{found.mode}"),
            trigger=_excerpt(found.trigger),
            score=found.score,
            threshold=threshold,
        )
        await ctx.reply(reason + "\n" + ctx.t("desk.faq.test_answer", answer=_excerpt(row.answer, 200)))
    elif near is not None:
        await ctx.reply(
            ctx.t(
                "desk.faq.test_near",
                id=near.entry_id,
                trigger=_excerpt(near.trigger),
                score=near.score,
                threshold=threshold,
            )
        )
    else:
        await ctx.reply(ctx.t("desk.faq.test_none"))


@faq.sub("stats", aliases=("统计",), min_role=Role.MODERATOR)
async def faq_stats(ctx: Context) -> None:
    """``/faq stats``: hits and helpful rate per entry, and the entries that never fired."""
    assert ctx.group is not None
    repo = get_state(ctx.services).repos.faq
    rows = await repo.entries(ctx.group.id)
    if not rows:
        await ctx.reply(ctx.t("desk.faq.empty"))
        return
    figures = await repo.stats(ctx.group.id)
    fired = sorted((r for r in rows if r.id in figures), key=lambda r: -figures[r.id].hits)
    never = [r for r in rows if r.id not in figures]
    lines = [ctx.t("desk.faq.stats_title", count=len(rows), fired=len(fired))]
    for r in fired[:LIST_MAX]:
        f = figures[r.id]
        votes = f.helpful + f.unhelpful
        rate = (
            ctx.t("desk.faq.rate", pct=round(100 * f.helpful / votes), votes=votes)
            if votes
            else ctx.t("desk.faq.no_votes")
        )
        lines.append(
            ctx.t("desk.faq.stats_item", id=r.id, trigger=_excerpt(r.triggers[0], 30), hits=f.hits, rate=rate)
        )
    if never:
        shown = ", ".join(f"#{r.id}" for r in never[:LIST_MAX])
        lines.append(ctx.t("desk.faq.never", ids=shown, count=len(never)))
    await ctx.reply("\n".join(lines))


@faq.sub("import", aliases=("导入",), args=[Rest("csv", lines=True, limit=200_000)], min_role=Role.MODERATOR)
async def faq_import(ctx: Context, csv: str) -> None:
    """``/faq import`` and CSV lines below (``mode,triggers,answer[,lang[,cooldown]]``): the
    good lines are added, refused ones named by line number."""
    assert ctx.group is not None
    state = get_state(ctx.services)
    rows, errors = await asyncio.to_thread(parse_csv, csv, state.fold)
    room = max(0, FAQ_MAX - await state.repos.faq.count(ctx.group.id))
    skipped = max(0, len(rows) - room)
    rows = rows[:room]
    default = (await ctx.settings(DeskSettings)).faq_cooldown
    added = await state.repos.faq.add_many(
        ctx.group.id,
        [(r.mode, r.triggers, r.answer, r.lang, default if r.cooldown is None else r.cooldown) for r in rows],
        by=ctx.user.user_id,
        at=ctx.now,
    )
    if added:
        state.changed(ctx.group.id)
        await state.audit(ctx.group.id, ctx.now, ctx.user.user_id, "faq_import", f"added={added}")
    lines = [ctx.t("desk.faq.imported", count=added, refused=len(errors))]
    for line, exc in errors[:ERRORS_SHOWN]:
        lines.append(ctx.t("desk.faq.import_line", line=line, reason=ctx.t(exc.key, **exc.values)))
    if len(errors) > ERRORS_SHOWN:
        lines.append(ctx.t("desk.faq.more", count=len(errors) - ERRORS_SHOWN))
    if skipped:
        lines.append(ctx.t("desk.faq.full", max=FAQ_MAX))
    await ctx.reply("\n".join(lines))


@faq.sub("export", aliases=("导出",), min_role=Role.MODERATOR)
async def faq_export(ctx: Context) -> None:
    """``/faq export``: the group's FAQ as CSV, the form ``/faq import`` reads."""
    assert ctx.group is not None
    rows = await get_state(ctx.services).repos.faq.entries(ctx.group.id)
    if not rows:
        await ctx.reply(ctx.t("desk.faq.empty"))
        return
    await ctx.reply(to_csv((r.mode, r.triggers, r.answer, r.lang, r.cooldown) for r in rows))


#: Unanswered questions are shown for this long, and kept this long before they are purged.
UNANSWERED_SHOWN = timedelta(days=1)
UNANSWERED_KEPT = timedelta(days=7)
#: Questions sharing this share of their words are one group.
SIMILAR = 0.5


def group_similar(rows: list[QuestionRow], fold: Fold) -> list[list[QuestionRow]]:
    """Questions grouped by shared words (Jaccard over jieba words against each group's first),
    the largest group first."""
    groups: list[tuple[set[str], list[QuestionRow]]] = []
    for row in rows:
        words = set(tokens(row.text, fold))
        for first, members in groups:
            union = words | first
            if union and len(words & first) / len(union) >= SIMILAR:
                members.append(row)
                break
        else:
            groups.append((words, [row]))
    return sorted((members for _, members in groups), key=lambda m: (-len(m), m[0].at))


@faq.sub("unanswered", aliases=("未回答",), min_role=Role.MODERATOR)
async def faq_unanswered(ctx: Context) -> None:
    """``/faq unanswered``: the last day's questions nobody answered within 30 minutes, grouped by
    similarity, each group with a "make this an FAQ" button."""
    assert ctx.group is not None
    found = await unanswered_digest(ctx.services, ctx.group.id, ctx.now, ctx.t)
    await ctx.reply(found if found is not None else ctx.t("desk.faq.unanswered_none"))


async def unanswered_digest(
    services: Services, group_id: int, now: datetime, t: Callable[..., str]
) -> OutgoingMessage | None:
    """The unanswered questions of the last day as a message with the "make this an FAQ"
    buttons (``/faq unanswered`` and the moderators' daily digest); None when there are none."""
    state = get_state(services)
    await state.repos.unanswered.purge(now - UNANSWERED_KEPT)
    rows = [
        r
        for r in await state.repos.unanswered.waiting(group_id, now - UNANSWERED_SHOWN)
        if now - r.at >= ANSWER_WINDOW
    ]
    if not rows:
        return None
    groups = await asyncio.to_thread(group_similar, rows, state.fold)
    lines = [t("desk.faq.unanswered_title", count=len(rows), groups=len(groups))]
    buttons = []
    for number, members in enumerate(groups[: LIST_MAX // 4], start=1):
        lines.append(
            t("desk.faq.unanswered_item", n=number, count=len(members), text=_excerpt(members[0].text, 80))
        )
        buttons.append((Button(t("desk.faq.make", n=number), f"desk:mk:{members[0].id}"),))
    if len(groups) > LIST_MAX // 4:
        lines.append(t("desk.faq.more", count=len(groups) - LIST_MAX // 4))
    return OutgoingMessage(parts=(Text("\n".join(lines)),), buttons=tuple(buttons))
