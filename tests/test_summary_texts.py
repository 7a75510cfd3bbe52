"""Summary and digest words: every key in bokmål, nynorsk and English, and nynorsk is real."""

from __future__ import annotations

import re
import string

import yaml

from bot.i18n import catalogue
from bot.summary_text import full_text
from surveys.definition import Survey
from surveys.summary import build_summary
from surveys.synthetic import participation_for, survey_round
from tests.summary_support import EXP19, IMPORTANCE


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def area(lang: str) -> dict[str, str]:
    from importlib import resources

    path = resources.files("bot.texts").joinpath(f"summary.{lang}.yaml")
    return {str(k): str(v) for k, v in yaml.safe_load(path.read_text("utf-8")).items()}


def test_the_summary_area_has_every_key_in_three_languages() -> None:
    nb, nn, en = area("nb"), area("nn"), area("en")
    assert set(nb) == set(nn) == set(en)
    for key in nb:
        assert placeholders(nb[key]) == placeholders(nn[key]) == placeholders(en[key]), key
        assert catalogue("nn")[key] == nn[key].rstrip("\n")


def test_a_nynorsk_summary_reads_as_nynorsk(survey: Survey) -> None:
    frame = survey_round(survey, round_id=1, n=40, quit_share=0.4, position_share=0.6,
                         experienced=EXP19, importance=IMPORTANCE, seed=3)  # fmt: skip
    s = build_summary(frame, participation_for(frame), survey, round_id=1, round_number=1)
    text = full_text(s, survey, "nn")
    assert "viktigheit" in text and "Deltaking i runde 1" in text
    assert "Grupper under 5 svar blir ikkje viste" in text
    for bokmal in ("viktighet", "ikke ", "Deltakelse"):
        assert bokmal not in text
    assert re.search(r"\d,\d", text) and not re.search(r"\d\.\d", text)  # decimal comma
