"""Statistics, lexicon and scrubbing of the steering-group summary."""

from __future__ import annotations

import math

import pytest

from surveys.anonymity import hidden_groups, may_post
from surveys.stats import mean_interval, net_promoter, t95, welch_difference, wilson
from surveys.themes import classify, load_lexicon, name_tokens, scrub, theme_counts


def test_t_quantiles_match_tables() -> None:
    assert t95(1) == pytest.approx(12.706, abs=1e-3)
    assert t95(10) == pytest.approx(2.228, abs=1e-3)
    assert t95(40) == pytest.approx(2.021, abs=1e-3)
    assert t95(120) == pytest.approx(1.980, abs=1e-3)


def test_wilson_interval_of_the_2019_quitting_share() -> None:
    e = wilson(123, 308)  # 40 % of 308
    assert e.value == pytest.approx(0.3994, abs=1e-4)
    # Reference values computed by hand from the Wilson formula.
    assert e.low == pytest.approx(0.3462, abs=1e-3)
    assert e.high == pytest.approx(0.4550, abs=1e-3)
    assert wilson(0, 5).low == pytest.approx(0) and wilson(0, 5).high == pytest.approx(
        0.4345, abs=1e-3
    )


def test_paired_gap_interval_and_welch_difference() -> None:
    diffs = [1, 2, 0, 1, 3, 1, 2, 1]
    e = mean_interval(len(diffs), sum(diffs), sum(d * d for d in diffs))
    sd = math.sqrt(sum((d - 11 / 8) ** 2 for d in diffs) / 7)
    assert e.value == pytest.approx(11 / 8)
    assert e.high - e.value == pytest.approx(2.365 * sd / math.sqrt(8), abs=1e-6)
    w = welch_difference(60, 3.0, 1.0, 60, 3.5, 1.0)
    assert w.value == pytest.approx(0.5)
    assert w.high - w.value == pytest.approx(t95(118) * math.sqrt(2 / 60))
    assert w.low > 0  # 0.5 points with 60 answers each is a clear change
    assert not welch_difference(8, 3.0, 1.0, 8, 3.5, 1.0).excludes_zero  # with 8: unclear


def test_enps_is_promoters_minus_detractors() -> None:
    e = net_promoter([10, 9, 8, 7, 6, 0, 10, 3])
    assert e.value == pytest.approx(100 * (3 / 8 - 3 / 8))
    assert net_promoter([10] * 5).value == 100


def test_complementary_suppression() -> None:
    # One small group alone could be computed as total minus the others: hide one more.
    assert hidden_groups({"a": 20, "b": 9, "c": 2}, 5) == {"c", "b"}
    # Two small groups that together reach k protect each other.
    assert hidden_groups({"a": 20, "b": 3, "c": 2}, 5) == {"b", "c"}
    assert hidden_groups({"a": 20, "b": 7}, 5) == set()
    assert hidden_groups({"a": 3, "b": 1}, 5) == {"a", "b"}  # total under k: all hidden
    with pytest.raises(ValueError):
        hidden_groups({"a": 3}, 2)


def test_new_summary_needs_k_new_answers() -> None:
    assert may_post(12, None, 5)
    assert not may_post(13, 12, 5)
    assert not may_post(16, 12, 5)
    assert may_post(17, 12, 5)


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("Lederen min gir aldri tilbakemelding", "ledelse"),
        ("My manager never listens", "ledelse"),
        ("For mange nattevakter og helgevakter", "organisering"),
        ("The rota changes every week", "organisering"),
        ("Vil ha mer innflytelse på egen arbeidshverdag", "innflytelse"),
        ("I want a say in how we plan the day", "innflytelse"),
        ("Har videreutdanning som ikke blir brukt", "kompetanse_ubrukt"),
        ("My skills are not used at all", "kompetanse_ubrukt"),
        ("Ønsker flere kurs", "faglig_utvikling"),
        ("More training would help", "faglig_utvikling"),
        ("Lønna er for lav", "lonn"),
        ("Godt arbeidsmiljø", "annet"),
    ],
)
def test_lexicon_finds_the_report_themes(text: str, theme: str) -> None:
    assert theme in classify(text, load_lexicon())


def test_theme_counts_count_comments() -> None:
    counts = theme_counts(["Ønsker flere kurs", "Mer kurs", "Lønna", "Hyggelig"], load_lexicon())
    assert counts["faglig_utvikling"] == 2 and counts["lonn"] == 1 and counts["annet"] == 1


def test_scrub_removes_names_phones_and_emails() -> None:
    names = name_tokens(["Kari Nordmann", "Ola Hansen"])
    out = scrub(
        "ola sa at Trude på avdeling 3 kan nås på 912 34 567 eller trude@kommune.no. "
        "Ring +47 41234567!",
        names,
        keep=frozenset({"Bodø"}),
    )
    assert "Trude" not in out and "912" not in out and "kommune.no" not in out
    assert "ola" not in out.lower().split() and "41234567" not in out
    assert out.startswith("[navn] sa at [navn]")
    assert "Bodø" in scrub("Vi i Bodø trenger folk", names, keep=frozenset({"Bodø"}))
    assert "2019" in scrub("Siden 2019 har det vært tungt", names)
