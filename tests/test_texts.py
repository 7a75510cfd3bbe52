"""Chat texts: every key in both languages, with the same placeholders."""

from __future__ import annotations

import string

from bot.i18n import catalogue, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_bokmal_and_english_have_the_same_keys_and_placeholders() -> None:
    nb, en = catalogue("nb"), catalogue("en")
    assert set(nb) == set(en)
    for key in nb:
        assert placeholders(nb[key]) == placeholders(en[key]), key


def test_nynorsk_falls_back_to_bokmal_for_bot_texts() -> None:
    assert t("nn", "skip") == "Hopp over"
    assert t("en", "skip") == "Skip"
