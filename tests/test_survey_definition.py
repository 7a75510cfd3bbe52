"""The survey file: exact wording from the pilot report, and clear errors for bad files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from surveys.definition import SurveyError, load_survey, parse_survey

# The ten factors, as printed in the Salten report's section "Spørreundersøkelsen" — with one
# slip of the pen mended: the report's "Regelmessige tilbakemelding" (issue 10) reads
# "Regelmessig tilbakemelding"; the factor (F06) and its meaning are the report's.
REPORT_FACTORS = [
    "Ærlig, rask to-veis kommunikasjon mellom deg og leder, inkludert konstruktive diskusjoner "
    "angående arbeidsrelaterte tema.",
    "Utfordrende og spennende arbeidsoppgaver",
    "Kontinuerlig mulighet for vekst og læring",
    "Anerkjennelse og belønning for prestasjoner",
    "Innflytelse på egne arbeidsoppgaver",
    "Regelmessig tilbakemelding fra leder",
    "Tilgang på kompetansehevende tiltak",
    "Innflytelse på egen arbeidstid",
    "Kort avstand til arbeidsplassen",
    "Godt fagmiljø",
]
RAW = yaml.safe_load(
    (Path(__file__).parents[1] / "surveys" / "data" / "motivation.yaml").read_text("utf-8")
)


def test_factors_are_worded_exactly_as_in_the_report() -> None:
    survey = load_survey()
    assert [f.text["nb"] for f in survey.factors] == REPORT_FACTORS


def test_every_factor_is_asked_on_two_six_point_scales_with_labelled_ends() -> None:
    survey = load_survey()
    for factor in survey.factors:
        for kind, low, high in (
            ("exp", "svært lite", "svært mye"),
            ("imp", "ikke viktig", "svært viktig"),
        ):
            question = survey.question(f"{factor.id}.{kind}")
            assert question.scale is not None
            assert question.scale.values() == ["1", "2", "3", "4", "5", "6"]
            assert question.scale.labels[1]["nb"] == low
            assert question.scale.labels[6]["nb"] == high


def test_background_extras_and_languages() -> None:
    survey = load_survey()
    assert [q.id for q in survey.background] == [
        "municipality",
        "profession",
        "age_band",
        "tenure_band",
        "position_band",
        "shifts",
    ]
    municipalities = [o.label["nb"] for o in survey.scales["municipality"].options]
    assert municipalities == [
        "Bodø",
        "Steigen",
        "Sørfold",
        "Fauske",
        "Saltdal",
        "Beiarn",
        "Gildeskål",
        "Hamarøy",
        "Meløy",
    ]
    assert survey.scales["position_band"].values() == ["u50", "50-79", "80-99", "100"]
    assert survey.extra_ids() == ["quit", "recommend"]
    assert survey.question("recommend").scale.values() == [str(v) for v in range(11)]
    follow = survey.follow_up_for("quit")
    assert follow is not None and follow.is_free_text and follow.when_value == "1"
    for question in survey.questions.values():
        assert set(question.text) == {"nb", "en", "nn"}


def test_configured_municipalities_replace_the_default_list() -> None:
    survey = load_survey().with_municipalities(["Trondheim", "Nye Namsos"])
    assert survey.scales["municipality"].values() == ["trondheim", "nye-namsos"]
    assert survey.question("municipality").scale.values() == ["trondheim", "nye-namsos"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["factors"].append(copy.deepcopy(d["factors"][0])), "duplicate id 'F01'"),
        (lambda d: d["extras"][1].update(scale="stars"), "unknown scale 'stars'"),
        (lambda d: d["factors"][2]["text"].pop("en"), "factors[2]: missing translation for en"),
        (lambda d: d["scales"]["experience"].update(min=7), "min must be below max"),
        (lambda d: d.pop("factors"), "missing 'factors'"),
        (
            lambda d: d["background"].append(
                {"id": "quit", "scale": "yes_no", "text": d["extras"][0]["text"]}
            ),
            "duplicate id 'quit'",
        ),
    ],
)
def test_a_broken_survey_file_is_refused_with_the_place_named(mutate, message: str) -> None:
    data = copy.deepcopy(RAW)
    mutate(data)
    with pytest.raises(SurveyError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_survey(data, "test.yaml")


def test_an_unreadable_or_invalid_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(SurveyError, match="cannot read"):
        load_survey(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("factors: [unclosed", "utf-8")
    with pytest.raises(SurveyError, match=r"bad\.yaml: not valid YAML"):
        load_survey(bad)
