"""Every string a dashboard page shows exists in both catalogs (the architecture test reads
Python for ``.t("…")``; templates and indicator keys are checked here)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.i18n import LANGUAGES, I18n
from handlers.stats.lifecycle import STAGES

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
_KEY = re.compile(r"""t\(\s*'([a-z_]+(?:\.[a-z0-9_]+)+)'""")
#: Keys a template builds (``'web.nav.' ~ name``): every value it can take.
BUILT = [
    *(
        f"web.nav.{name}"
        for name in ("overview", "charts", "desk", "audit", "lexicon", "members", "settings")
    ),
    *(
        f"web.error.{reason}{suffix}"
        for reason in ("login_needed", "csrf", "not_found", "too_many", "bad_link", "bad_value", "denied")
        for suffix in ("", "_title")
    ),
    *(f"web.desk.{action}" for action in ("ack", "undo", "ban")),
    *(f"web.lang.{lang.replace('-', '_')}" for lang in LANGUAGES),
    *(
        f"web.kpi.{key}"
        for key in (
            "members",
            "joined",
            "left",
            "dau",
            "wau",
            "mau",
            "stickiness",
            "messages_per_day",
            "interaction_rate",
            "checkin_rate",
            "handling_median_hours",
            "handling_p90_hours",
            "net_growth",
            "churn_ratio",
            "nps",
            "topic_participation",
            "attendance_rate",
        )
    ),
    *(f"web.kpi.stage_{stage.value}" for stage in STAGES),
    *(f"web.kpi.alerts_{level}" for level in ("red", "yellow", "blue", "other")),
    *(f"moderation.level.{level}" for level in ("red", "yellow", "blue")),
    "web.nav.content",
    *(f"web.tone.{tone}" for tone in ("good", "warn", "bad")),
    *(f"web.desk.kinds.{kind}" for kind in ("report", "surge", "hit", "flood", "complaint")),
    *(f"web.content.{action}" for action in ("pause", "resume", "delete", "approve", "reject")),
    *(f"web.content.post_{done}" for done in ("paused", "resumed", "deleted")),
    *(f"web.content.from.{source}" for source in ("starter", "custom", "suggested")),
    *(f"web.content.welcome_{key}" for key in ("template", "rules", "onboarding")),
]


def test_every_template_key_and_built_key_exists_in_every_catalog() -> None:
    i18n = I18n.load()
    used = {
        key for path in TEMPLATES.glob("*.html") for key in _KEY.findall(path.read_text(encoding="utf-8"))
    }
    assert len(used) > 40  # the pattern still finds them
    missing = [
        f"{key} ({lang})"
        for key in sorted(used | set(BUILT))
        for lang in LANGUAGES
        if not i18n.has(key, lang)
    ]
    assert missing == []
