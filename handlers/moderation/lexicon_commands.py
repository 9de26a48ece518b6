"""Lexicon commands: /kw and /allow."""

from __future__ import annotations

import asyncio
import functools

from bot.args import BadArgument
from bot.context import Context
from bot.params import Rest, Word, Words
from bot.roles import Role
from bot.services import Services
from handlers.moderation.commands import router
from handlers.moderation.folding import fold
from handlers.moderation.frequency import is_everyday_term
from handlers.moderation.lexicon import normalise_category, parse_import
from handlers.moderation.lint import lint_entries
from handlers.moderation.matcher import Entry, Level, LexiconError, Matcher, Mode, Report, validate_term
from handlers.moderation.pinyin import pinyin_view
from handlers.moderation.service import category_key, get_state
from handlers.moderation.settings import ModerationSettings
from handlers.moderation.targets import _deliver, _hide_command, _moderator_group
from storage.models import Group
from storage.moderation.lexicon import TermRow, TermStats

#: Vendors cap a group's own list around this size; it also bounds rebuild time.
MAX_GROUP_TERMS = 10_000
#: ``/kw add LEVEL TERM … here``: the term stays in this chat, not its community's lexicon.
HERE_WORDS = frozenset({"here", "本群", "仅本群"})


# -- lexicon commands ----------------------------------------------------------------------


async def _kw_group(ctx: Context) -> tuple[bool, Group | None]:
    """(allowed, group): the group a lexicon command edits; None in a private chat, where only
    ``test`` works (against the global lexicon)."""
    if ctx.group is None:
        return True, None
    group = await _moderator_group(ctx)
    return group is not None, group


kw = router.group(
    "kw",
    usage="moderation.usage.kw",
    help="moderation.help.kw",
    where="any",
    group_needed="moderation.kw.group_needed",
)


async def _kw_edit_group(ctx: Context) -> Group | None:
    """The group a lexicon edit applies to (this one, or the one a moderator chat serves), or
    None after the refusal. Edits are group-only subcommands: a private chat never gets here."""
    allowed, group = await _kw_group(ctx)
    return group if allowed else None


@kw.sub("test", args=[Rest("text")])
async def kw_test(ctx: Context, text: str) -> None:
    """``/kw test TEXT``: how the lexicon reads a text (in private: the global lexicon)."""
    allowed, group = await _kw_group(ctx)
    if allowed:
        await _kw_test(ctx, group, text)


@kw.sub("info", args=[Rest("term")])
async def kw_info(ctx: Context, term: str) -> None:
    """``/kw info TERM``: how the lexicon holds a term (in private: the global lexicon)."""
    allowed, group = await _kw_group(ctx)
    if allowed:
        await _kw_info(ctx, group, term)


_LEVEL = Word("level", hint="core.param.level")


@kw.sub(
    "add",
    args=[_LEVEL, Word("term"), Words("extras", optional=True, default="", hint="core.param.category")],
    min_role=Role.MODERATOR,
    where="group",
)
async def kw_add(ctx: Context, level: str, term: str, extras: str) -> None:
    """``/kw add LEVEL TERM [category] [mode]``."""
    group = await _kw_edit_group(ctx)
    if group is not None:
        await _kw_add(ctx, group, level, term, extras.split())


@kw.sub("del", aliases=("delete", "rm"), args=[Words("term")], min_role=Role.MODERATOR, where="group")
async def kw_del(ctx: Context, term: str) -> None:
    """``/kw del TERM``."""
    group = await _kw_edit_group(ctx)
    if group is not None:
        await _kw_del(ctx, group, term)


@kw.sub(
    "list",
    args=[Word("level", optional=True, hint="core.param.level")],
    min_role=Role.MODERATOR,
    where="group",
)
async def kw_list(ctx: Context, level: str | None) -> None:
    """``/kw list [LEVEL]``."""
    group = await _kw_edit_group(ctx)
    if group is not None:
        await _kw_list(ctx, group, level)


@kw.sub("import", args=[Rest("body", lines=True)], min_role=Role.MODERATOR, where="group")
async def kw_import(ctx: Context, body: str) -> None:
    """``/kw import`` and one term per line below."""
    group = await _kw_edit_group(ctx)
    if group is not None:
        await _kw_import(ctx, group, body)


@kw.sub("export", min_role=Role.MODERATOR, where="group")
async def kw_export(ctx: Context) -> None:
    """``/kw export``: the group's own terms in the import format."""
    group = await _kw_edit_group(ctx)
    if group is not None:
        await _kw_export(ctx, group)


def _lexicon_error(exc: LexiconError) -> BadArgument:
    return BadArgument(f"moderation.kw.{exc.code}")


async def add_group_term(
    services: Services,
    group: Group,
    level_word: str,
    term: str,
    category: str | None,
    mode: Mode,
    by: str,
    *,
    shared: bool = True,
) -> tuple[Level, str, int]:
    """Add one term to a group's lexicon, validated and audited, and rebuild its matcher (and
    drop those of the community's chats sharing it); returns (level, category, new size).
    ``shared=False`` (``/kw add … here``) keeps the term in this chat. Raises ``BadArgument``
    with ``/kw add``'s errors. The chat command and the dashboard both add terms through here."""
    try:
        level = Level.parse(level_word)
    except ValueError:
        raise BadArgument("moderation.kw.bad_level", value=level_word[:12]) from None
    state = get_state(services)
    try:
        key = validate_term(term, mode, state.regex_timeout)
    except LexiconError as exc:
        raise _lexicon_error(exc) from None
    existing = await state.repos.lexicon.terms(group.id)
    # The same term again replaces its level and category (an edit): never refused as full.
    replaces = any(row.key == key and row.mode == mode.value for row in existing)
    if len(existing) >= MAX_GROUP_TERMS and not replaces:
        raise BadArgument("moderation.kw.full", max=MAX_GROUP_TERMS)
    cat = normalise_category(category)
    now = services.clock.now()
    await state.repos.lexicon.add_terms(
        group.id, [(term, key, level.label, cat, mode.value)], by, now, shared=shared
    )
    where = "" if shared else " here"
    await state.repos.audit.log(
        group.id, now, by, "kw_add", f"level={level.label} category={cat} mode={mode.value}{where}"
    )
    await state.rebuild(group.id)
    return level, cat, len(existing) + (0 if replaces else 1)


async def remove_group_term(services: Services, group: Group, term: str, by: str) -> int:
    """Remove a term from a group's lexicon (by its folded key, else as typed), and the same
    term shared by the community's other chats (it applies here, so it is this chat's to
    remove too), audited, and rebuild the matchers; returns how many rows went."""
    state = get_state(services)
    peers = await state.peers(group.id)
    removed, theirs = 0, []
    for key in dict.fromkeys((fold(term) or term, term)):
        removed = await state.repos.lexicon.delete_term(group.id, key)
        theirs = await state.repos.lexicon.delete_shared_term(peers, key)
        if removed or theirs:
            break
    now = services.clock.now()
    for chat in dict.fromkeys(theirs):
        # The chat that added it sees in its own /modlog that another chat removed it.
        await state.repos.audit.log(chat, now, by, "kw_del", f"removed={theirs.count(chat)} in={group.id}")
    removed += len(theirs)
    if removed:
        await state.repos.audit.log(group.id, services.clock.now(), by, "kw_del", f"removed={removed}")
        await state.rebuild(group.id)
    return removed


async def _kw_add(ctx: Context, group: Group, level_word: str, term: str, extras: list[str]) -> None:
    mode = Mode.TEXT
    category = None
    here = False
    for extra in extras:
        if extra.lower() in (m.value for m in Mode):
            mode = Mode(extra.lower())
        elif extra.casefold() in HERE_WORDS:
            here = True
        elif category is None:
            category = extra
    level, cat, size = await add_group_term(
        ctx.services, group, level_word, term, category, mode, ctx.user.user_id, shared=not here
    )
    await _hide_command(ctx, group)
    state = get_state(ctx.services)
    reply = [
        ctx.t(
            "moderation.kw.added",
            level=ctx.t(f"moderation.level.{level.label}"),
            category=ctx.t(category_key(cat)),
            size=size,
        )
    ]
    # The same lint as /kw import (never repeating the term: this reply is public).
    allow_rows = await state.repos.lexicon.allow_terms(group.id)
    issues = await asyncio.to_thread(
        lint_entries,
        [(1, Entry(term, level, cat, mode))],
        allow=[r.term for r in allow_rows],
        regex_timeout=state.regex_timeout,
    )
    reply += [ctx.t("moderation.kw.lint_note", reason=ctx.t(f"moderation.lint.{i.code}")) for i in issues]
    peers = await state.peers(group.id)
    if peers:
        # In a community sharing its lexicon, say where the term applies.
        reply.append(
            ctx.t("moderation.kw.here_only")
            if here
            else ctx.t("moderation.kw.community_wide", count=len(peers) + 1)
        )
    await ctx.send("\n".join(reply))


async def _kw_del(ctx: Context, group: Group, term: str) -> None:
    state = get_state(ctx.services)
    removed = await remove_group_term(ctx.services, group, term, ctx.user.user_id)
    await _hide_command(ctx, group)
    if not removed:
        in_global = fold(term) in set(state.global_layer.keys)
        await ctx.send(ctx.t("moderation.kw.global_term" if in_global else "moderation.kw.not_found"))
        return
    await ctx.send(ctx.t("moderation.kw.deleted", count=removed))


async def _kw_list(ctx: Context, group: Group, level: str | None) -> None:
    level_filter = None
    if level is not None:
        try:
            level_filter = Level.parse(level).label
        except ValueError:
            raise BadArgument("moderation.kw.bad_level", value=level[:12]) from None
    state = get_state(ctx.services)
    terms = [
        t
        for t in await state.repos.lexicon.terms(group.id)
        if level_filter is None or t.level == level_filter
    ]
    stats = await state.repos.lexicon.term_stats(group.id)
    peers = await state.peers(group.id)
    lines = [ctx.t("moderation.kw.list_header", count=len(terms), global_count=state.global_layer.size)]
    shown = terms[:300]
    for t in shown:
        line = _list_line(ctx, t, stats)
        # In a community sharing its lexicon, the terms kept to this chat say so.
        lines.append(line + ctx.t("moderation.kw.list_here") if peers and not t.shared else line)
    if len(terms) > 300:
        lines.append(ctx.t("moderation.kw.list_more", count=len(terms) - 300))
    if peers:
        theirs = [
            t
            for t in await state.repos.lexicon.shared_terms(peers)
            if level_filter is None or t.level == level_filter
        ]
        lines.append(ctx.t("moderation.kw.list_community", count=len(theirs), chats=len(peers)))
        room = max(0, 300 - len(shown))
        lines += [_list_line(ctx, t, stats) for t in theirs[:room]]
        if len(theirs) > room:
            lines.append(ctx.t("moderation.kw.list_more", count=len(theirs) - room))
    await _deliver(ctx, group, "\n".join(lines))


def _scope_key(index: int, scope: str, group: Group | None) -> str:
    """Where ``/kw info`` says an entry comes from: the global files, this group, or (a term
    another chat of the community shares) the community."""
    if index == 0:
        return "moderation.kw.scope_global"
    if group is not None and scope != str(group.id):
        return "moderation.kw.scope_community"
    return "moderation.kw.scope_group"


def _list_line(ctx: Context, t: TermRow, stats: dict[str, TermStats]) -> str:
    st = stats.get(t.term)
    return ctx.t(
        "moderation.kw.list_line",
        level=ctx.t(f"moderation.level.{t.level}"),
        term=t.term,
        category=t.category,
        mode=t.mode,
        hits=st.hits if st else 0,
        fp=st.false_positives if st else 0,
    )


async def _kw_test(ctx: Context, group: Group | None, text: str) -> None:
    state = get_state(ctx.services)
    matcher = await state.matcher(group.id) if group is not None else Matcher([state.global_layer])
    rules = await ctx.services.settings.of(group.id, ModerationSettings) if group is not None else None
    pinyin = rules is not None and rules.pinyin
    leet = rules.leetspeak if rules is not None else True
    everyday = rules.everyday_guard if rules is not None else True
    report = await _explain(matcher, text, pinyin=pinyin, leet=leet, everyday=everyday)
    lines = [ctx.t("moderation.kw.test_folded", folded=report.folded[:300])]
    if pinyin and report.folded:
        view = await asyncio.to_thread(pinyin_view, report.folded[:300])
        lines.append(ctx.t("moderation.kw.test_pinyin", view=view[:600]))
    if not report.candidates:
        lines.append(ctx.t("moderation.kw.test_none"))
    for cand in report.candidates[:30]:
        verdict = (
            ctx.t(f"moderation.reject.{cand.rejected}") if cand.rejected else ctx.t("moderation.reject.kept")
        )
        if cand.lowered:
            verdict = ctx.t("moderation.reject.homophone")
        if cand.everyday:
            verdict = ctx.t("moderation.reject.everyday")
        lines.append(
            ctx.t(
                "moderation.kw.test_candidate",
                term=cand.entry.term,
                level=ctx.t(f"moderation.level.{cand.entry.level.label}"),
                verdict=verdict,
            )
            + (ctx.t(f"moderation.kw.view_{cand.view}") if cand.view != "text" else "")
        )
    if report.hits:
        level = report.level
        assert level is not None
        lines.append(ctx.t("moderation.kw.test_level", level=ctx.t(f"moderation.level.{level.label}")))
        for hit in report.hits:
            if hit.downgraded and not hit.pinyin:
                lines.append(ctx.t("moderation.kw.test_downgraded", term=hit.entry.term))
    else:
        lines.append(ctx.t("moderation.kw.test_clean"))
    if group is None:
        await ctx.reply("\n".join(lines))
    else:
        await _hide_command(ctx, group)
        await _deliver(ctx, group, "\n".join(lines))


async def _kw_info(ctx: Context, group: Group | None, term: str) -> None:
    state = get_state(ctx.services)
    matcher = await state.matcher(group.id) if group is not None else Matcher([state.global_layer])
    key = fold(term)
    if not key:
        raise BadArgument("moderation.kw.folds_to_nothing")
    lines = [ctx.t("moderation.kw.info_folded", term=term[:60], folded=key[:60])]
    found = False
    for index, layer in enumerate(matcher.layers):
        held = layer.lookup(key)
        if held is None:
            continue
        found = True
        entry, spellings = held
        lines.append(
            ctx.t(
                "moderation.kw.info_entry",
                scope=ctx.t(_scope_key(index, entry.scope, group)),
                term=entry.term,
                level=ctx.t(f"moderation.level.{entry.level.label}"),
                category=ctx.t(category_key(entry.category)),
                mode=entry.mode.value,
            )
        )
        if spellings is not None:
            lines.append(
                ctx.t("moderation.kw.info_strict", folded=key, spellings=", ".join(sorted(spellings)))
            )
        elif entry.mode is Mode.TEXT and await asyncio.to_thread(is_everyday_term, key, entry.category):
            # Word frequencies need jieba's dictionary / wordfreq: off the event loop.
            lines.append(ctx.t("moderation.kw.info_everyday", folded=key))
    if not found:
        lines.append(ctx.t("moderation.kw.info_absent"))
    if group is None:
        await ctx.reply("\n".join(lines))
    else:
        await _hide_command(ctx, group)
        await _deliver(ctx, group, "\n".join(lines))


async def _explain(
    matcher: Matcher, text: str, *, pinyin: bool = False, leet: bool = False, everyday: bool = True
) -> Report:
    # A long test text with many candidates costs milliseconds; keep it off the event loop.
    return await asyncio.to_thread(
        functools.partial(matcher.explain, text[:4096], pinyin=pinyin, leet=leet, everyday=everyday)
    )


async def _kw_import(ctx: Context, group: Group, body: str) -> None:
    # Line numbers count from the first line after "/kw import" (``Rest(lines=True)``).
    state = get_state(ctx.services)
    existing = await state.repos.lexicon.terms(group.id)
    result = parse_import(body, {t.key for t in existing})
    room = MAX_GROUP_TERMS - len(existing)
    added = result.entries[: max(0, room)]
    rows = [(e.term, fold(e.term), e.level.label, e.category, e.mode.value) for e in added]
    await state.repos.lexicon.add_terms(group.id, rows, ctx.user.user_id, ctx.now)
    await state.repos.audit.log(
        group.id,
        ctx.now,
        ctx.user.user_id,
        "kw_import",
        f"added={len(added)} duplicates={len(result.duplicates)} invalid={len(result.invalid)}",
    )
    await _hide_command(ctx, group)
    if added:
        await state.rebuild(group.id)
    lines = [
        ctx.t(
            "moderation.kw.imported",
            added=len(added),
            duplicates=len(result.duplicates),
            invalid=len(result.invalid),
        )
    ]
    for number, code in result.invalid[:20]:
        lines.append(
            ctx.t("moderation.kw.invalid_line", line=number, reason=ctx.t(f"moderation.invalid.{code}"))
        )
    if len(result.entries) > len(added):
        lines.append(ctx.t("moderation.kw.full", max=MAX_GROUP_TERMS))
    if added:
        allow_rows = await state.repos.lexicon.allow_terms(group.id)
        issues = await asyncio.to_thread(
            lint_entries,
            list(zip(result.lines, added, strict=False)),
            allow=[r.term for r in allow_rows],
            regex_timeout=state.regex_timeout,
        )
        if issues:
            # Line numbers and reasons only: this reply is public and must not repeat terms.
            lines.append(ctx.t("moderation.kw.lint_header", count=len(issues)))
            for issue in issues[:20]:
                lines.append(
                    ctx.t(
                        "moderation.kw.invalid_line",
                        line=issue.line,
                        reason=ctx.t(f"moderation.lint.{issue.code}"),
                    )
                )
    await ctx.send("\n".join(lines))


async def _kw_export(ctx: Context, group: Group) -> None:
    state = get_state(ctx.services)
    terms = await state.repos.lexicon.terms(group.id)
    if not terms:
        await ctx.reply(ctx.t("moderation.kw.empty"))
        return
    lines = []
    for t in terms:
        quoted = f'"{t.term}"' if any(c.isspace() for c in t.term) else t.term
        lines.append(f"{t.level} {quoted} {t.category}" + ("" if t.mode == "text" else f" {t.mode}"))
    await _deliver(ctx, group, "\n".join(lines))


allow = router.group(
    "allow", usage="moderation.usage.allow", help="moderation.help.allow", min_role=Role.MODERATOR
)


@allow.sub("list")
async def allow_list(ctx: Context) -> None:
    """The allow-listed phrases."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    rows = await get_state(ctx.services).repos.lexicon.allow_terms(group.id)
    lines = [ctx.t("moderation.allow.header", count=len(rows))] + [f"• {r.term}" for r in rows]
    await _deliver(ctx, group, "\n".join(lines))


@allow.sub("add", args=[Words("phrase")])
async def allow_add(ctx: Context, phrase: str) -> None:
    """Allow-list a phrase that cancels a hit inside it."""
    await _allow_change(ctx, "add", phrase)


@allow.sub("del", aliases=("delete", "rm"), args=[Words("phrase")])
async def allow_del(ctx: Context, phrase: str) -> None:
    """Remove an allow-listed phrase."""
    await _allow_change(ctx, "del", phrase)


async def _allow_change(ctx: Context, sub: str, phrase: str) -> None:
    group = await _moderator_group(ctx)
    if group is None:
        return
    state = get_state(ctx.services)
    try:
        key = validate_term(phrase)
    except LexiconError as exc:
        raise _lexicon_error(exc) from None
    if sub == "add":
        changed = await state.repos.lexicon.add_allow(group.id, phrase, key, ctx.user.user_id, ctx.now)
        reply = "moderation.allow.added" if changed else "moderation.allow.exists"
    else:
        changed = await state.repos.lexicon.delete_allow(group.id, key)
        reply = "moderation.allow.deleted" if changed else "moderation.allow.not_found"
    if changed:
        await state.repos.audit.log(
            group.id, ctx.now, ctx.user.user_id, f"allow_{'add' if sub == 'add' else 'del'}", ""
        )
        await state.rebuild(group.id)
    await ctx.reply(ctx.t(reply))
