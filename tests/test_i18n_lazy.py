"""Start-up reads only the default language's catalog; another language is read on its first
use (issue 21: parsing TOML is pure Python, about 25 ms of CPU per language here)."""

from __future__ import annotations

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, I18n


def test_only_the_default_language_is_read_at_load_and_the_rest_on_first_use() -> None:
    i18n = I18n.load()
    assert set(i18n._loaded) == {DEFAULT_LANGUAGE}
    assert i18n.t("zh-CN", "core.ping.reply") == "pong 🏓 我在。"
    assert set(i18n._loaded) == {DEFAULT_LANGUAGE}
    assert i18n.t("en", "core.ping.reply") != i18n.t("zh-CN", "core.ping.reply")  # en read now
    assert set(i18n._loaded) == {"zh-CN", "en"}
    # An unknown language falls back to the default, reading nothing.
    assert I18n.load().t("fr", "core.ping.reply") == "pong 🏓 我在。"
    # ``catalogs`` (the completeness test walks it) has every shipped language.
    fresh = I18n.load()
    assert set(fresh.catalogs) == set(LANGUAGES)
    assert fresh.has("core.ping.reply", "en") and not fresh.has("core.no_such_key", "en")
