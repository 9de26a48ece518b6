"""How an activity is shown: its card, its Join / Cancel buttons, local times, mentions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.messages import Button, Mention, Part, Text
from bot.planned_posts import tz_of, user_ref
from storage.activities import Activity

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member


def local_time(instant: datetime, group: Group) -> str:
    return instant.astimezone(tz_of(group)).strftime("%Y-%m-%d %H:%M")


def duration_text(services: Services, lang: str, seconds: int) -> str:
    hours, rest = divmod(seconds // 60, 60)
    if hours and rest:
        return services.i18n.t(lang, "events.dur_hm", h=hours, m=rest)
    if hours:
        return services.i18n.t(lang, "events.dur_h", h=hours)
    return services.i18n.t(lang, "events.dur_m", m=rest)


def rsvp_buttons(services: Services, lang: str, activity_id: int) -> tuple[tuple[Button, ...], ...]:
    """Join / Cancel (参加 / 取消) under an announcement."""
    t = services.i18n.t
    return (
        (
            Button(t(lang, "events.btn_join"), f"ev:join:{activity_id}", command=f"/join {activity_id}"),
            Button(t(lang, "events.btn_leave"), f"ev:leave:{activity_id}", command=f"/leave {activity_id}"),
        ),
    )


def details(services: Services, group: Group, act: Activity) -> str:
    lang = group.language
    t = services.i18n.t
    lines = [
        t(lang, "events.card_title", id=act.id, title=act.title),
        t(
            lang,
            "events.card_when",
            start=local_time(act.start_at, group),
            tz=group.timezone,
            duration=duration_text(services, lang, act.duration_s),
        ),
    ]
    if act.capacity:
        lines.append(t(lang, "events.card_capacity", capacity=act.capacity))
    if act.description:
        lines.append(act.description)
    return "\n".join(lines)


def mentions(services: Services, group: Group, people: list[Member]) -> tuple[Part, ...]:
    parts: list[Part] = []
    for i, member in enumerate(people):
        if i:
            parts.append(Text(" "))
        parts.append(Mention(user_ref(services, member, group)))
    return tuple(parts)
