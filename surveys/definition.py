"""The survey as data: loading and validating the YAML definition.

The survey lives in a data file so that wording can change without code changes, and is
validated at start so that a typo (a duplicate id, an unknown scale, a missing translation)
stops the service with a message naming the problem instead of confusing a respondent later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SURVEY = "motivation.yaml"
FACTOR_ITEM_KINDS = ("exp", "imp")


class SurveyError(ValueError):
    """The survey file is not usable; the message says where and why."""


Text = Mapping[str, str]


@dataclass(frozen=True)
class Option:
    """One answer option of an options scale."""

    value: str
    label: Text


@dataclass(frozen=True)
class Scale:
    """A numeric range with labelled ends, or a list of options."""

    id: str
    kind: str  # "numeric" | "options"
    min: int = 0
    max: int = 0
    labels: Mapping[int, Text] = field(default_factory=dict)
    options: tuple[Option, ...] = ()

    def values(self) -> list[str]:
        """Every valid answer value, as the string a button carries."""
        if self.kind == "numeric":
            return [str(v) for v in range(self.min, self.max + 1)]
        return [o.value for o in self.options]

    def label(self, value: str, lang: str) -> str:
        """The label a person sees for one value ("4", or "1 – svært lite")."""
        if self.kind == "options":
            for option in self.options:
                if option.value == value:
                    return option.label[lang]
            raise KeyError(value)
        end = self.labels.get(int(value))
        return f"{value} – {end[lang]}" if end else value

    def is_valid(self, value: str) -> bool:
        return value in self.values()


@dataclass(frozen=True)
class Question:
    """One thing a person is asked; `id` is what responses are stored under."""

    id: str
    scale: Scale | None  # None for free text
    text: Text
    context: Text | None = None  # e.g. the factor wording above the scale prompt
    factor: str | None = None
    max_chars: int = 0
    follow_up_of: str | None = None
    when_value: str | None = None

    @property
    def is_free_text(self) -> bool:
        return self.scale is None


@dataclass(frozen=True)
class Factor:
    """One of the ten motivation factors."""

    id: str
    text: Text
    short: Text


@dataclass(frozen=True)
class Survey:
    """A validated survey definition."""

    id: str
    version: int
    languages: tuple[str, ...]
    scales: Mapping[str, Scale]
    factors: tuple[Factor, ...]
    background: tuple[Question, ...]
    extras: tuple[Question, ...]
    questions: Mapping[str, Question]

    @property
    def factor_ids(self) -> list[str]:
        return [f.id for f in self.factors]

    def factor(self, factor_id: str) -> Factor:
        for factor in self.factors:
            if factor.id == factor_id:
                return factor
        raise KeyError(factor_id)

    def question(self, question_id: str) -> Question:
        try:
            return self.questions[question_id]
        except KeyError:
            raise KeyError(f"unknown question {question_id!r}") from None

    def follow_up_for(self, question_id: str) -> Question | None:
        for question in self.questions.values():
            if question.follow_up_of == question_id:
                return question
        return None

    def extra_ids(self) -> list[str]:
        return [q.id for q in self.extras]

    def with_municipalities(self, names: Iterable[str]) -> Survey:
        """The same survey with another list of municipalities (the setting overrides the file)."""
        options = tuple(
            Option(value=slug(name), label={lang: name for lang in self.languages})
            for name in names
        )
        if not options:
            return self
        values = [o.value for o in options]
        if len(set(values)) != len(values):
            raise SurveyError("municipalities: two names give the same id")
        scale = Scale(id="municipality", kind="options", options=options)
        scales = dict(self.scales, municipality=scale)
        background = tuple(
            Question(q.id, scale, q.text) if q.scale and q.scale.id == "municipality" else q
            for q in self.background
        )
        questions = dict(self.questions)
        for q in background:
            questions[q.id] = q
        return Survey(
            self.id,
            self.version,
            self.languages,
            scales,
            self.factors,
            background,
            self.extras,
            questions,
        )


def factor_item_id(factor_id: str, kind: str) -> str:
    """`F03.exp` — the question id of one scale of one factor."""
    return f"{factor_id}.{kind}"


def slug(name: str) -> str:
    """A stable ASCII id for a municipality name ("Sørfold" -> "sorfold")."""
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
    out = "".join(ch if ch.isalnum() else "-" for ch in name.strip().translate(table).lower())
    return "-".join(part for part in out.split("-") if part)


def load_survey(path: str | Path | None = None) -> Survey:
    """Load and validate a survey file (the bundled motivation survey by default)."""
    if path is None:
        raw_text = resources.files("surveys.data").joinpath(DEFAULT_SURVEY).read_text("utf-8")
        where = DEFAULT_SURVEY
    else:
        where = str(path)
        try:
            raw_text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise SurveyError(f"{where}: cannot read the survey file ({exc.strerror})") from exc
    try:
        # libyaml's loader when present: ten times faster, and every command loads the survey.
        raw = yaml.load(raw_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise SurveyError(f"{where}: not valid YAML: {exc}") from exc
    return parse_survey(raw, where)


def parse_survey(raw: Any, where: str = "survey") -> Survey:
    """Validate a parsed survey document and build the immutable definition."""
    if not isinstance(raw, dict):
        raise SurveyError(f"{where}: expected a mapping at the top level")
    languages = tuple(_require(raw, "languages", where))
    if not languages or "nb" not in languages or "en" not in languages:
        raise SurveyError(f"{where}: languages must include nb and en")

    def text(value: Any, at: str) -> Text:
        if not isinstance(value, dict):
            raise SurveyError(f"{where}: {at}: expected a text with languages {list(languages)}")
        missing = [lang for lang in languages if not str(value.get(lang, "")).strip()]
        if missing:
            raise SurveyError(f"{where}: {at}: missing translation for {', '.join(missing)}")
        return {lang: str(value[lang]) for lang in languages}

    scales: dict[str, Scale] = {}
    for scale_id, spec in (_require(raw, "scales", where) or {}).items():
        at = f"scales.{scale_id}"
        kind = spec.get("kind")
        if kind == "numeric":
            lo, hi = int(spec["min"]), int(spec["max"])
            if lo >= hi:
                raise SurveyError(f"{where}: {at}: min must be below max")
            labels = {
                int(k): text(v, f"{at}.labels.{k}") for k, v in spec.get("labels", {}).items()
            }
            if any(not lo <= k <= hi for k in labels):
                raise SurveyError(f"{where}: {at}: a label lies outside {lo}–{hi}")
            scales[scale_id] = Scale(scale_id, "numeric", lo, hi, labels)
        elif kind == "options":
            options = tuple(
                Option(str(o["value"]), text(o.get("label"), f"{at}.options[{i}]"))
                for i, o in enumerate(spec.get("options") or [])
            )
            values = [o.value for o in options]
            if not options or len(set(values)) != len(values):
                raise SurveyError(f"{where}: {at}: options must be present and unique")
            scales[scale_id] = Scale(scale_id, "options", options=options)
        else:
            raise SurveyError(f"{where}: {at}: kind must be numeric or options, not {kind!r}")

    def scale(scale_id: Any, at: str) -> Scale:
        if scale_id not in scales:
            raise SurveyError(f"{where}: {at}: unknown scale {scale_id!r}")
        return scales[scale_id]

    questions: dict[str, Question] = {}

    def add(question: Question, at: str) -> Question:
        if question.id in questions:
            raise SurveyError(f"{where}: {at}: duplicate id {question.id!r}")
        questions[question.id] = question
        return question

    items = _require(raw, "factor_items", where)
    if sorted(items) != sorted(FACTOR_ITEM_KINDS):
        raise SurveyError(f"{where}: factor_items must define exactly {list(FACTOR_ITEM_KINDS)}")
    factors: list[Factor] = []
    for i, spec in enumerate(_require(raw, "factors", where)):
        at = f"factors[{i}]"
        factor = Factor(str(spec["id"]), text(spec.get("text"), at), text(spec.get("short"), at))
        if any(f.id == factor.id for f in factors):
            raise SurveyError(f"{where}: {at}: duplicate id {factor.id!r}")
        factors.append(factor)
        for kind in FACTOR_ITEM_KINDS:
            item = items[kind]
            add(
                Question(
                    factor_item_id(factor.id, kind),
                    scale(item.get("scale"), f"factor_items.{kind}"),
                    text(item.get("prompt"), f"factor_items.{kind}.prompt"),
                    context=factor.text,
                    factor=factor.id,
                ),
                at,
            )

    background = tuple(
        add(
            Question(
                str(s["id"]),
                scale(s.get("scale"), f"background[{i}]"),
                text(s.get("text"), f"background[{i}]"),
            ),
            f"background[{i}]",
        )
        for i, s in enumerate(_require(raw, "background", where))
    )
    extras: list[Question] = []
    for i, spec in enumerate(_require(raw, "extras", where)):
        at = f"extras[{i}]"
        question = add(
            Question(str(spec["id"]), scale(spec.get("scale"), at), text(spec.get("text"), at)), at
        )
        extras.append(question)
        follow = spec.get("follow_up")
        if follow:
            when = str(follow.get("when_value"))
            if question.scale is None or not question.scale.is_valid(when):
                raise SurveyError(f"{where}: {at}.follow_up: when_value {when!r} is not a value")
            add(
                Question(
                    str(follow["id"]),
                    None,
                    text(follow.get("text"), f"{at}.follow_up"),
                    max_chars=int(follow.get("max_chars", 1000)),
                    follow_up_of=question.id,
                    when_value=when,
                ),
                f"{at}.follow_up",
            )
    for question in questions.values():
        if (
            question.scale
            and question.scale.kind == "options"
            and question.id in {q.id for q in extras}
            and not all(v.lstrip("-").isdigit() for v in question.scale.values())
        ):
            raise SurveyError(
                f"{where}: {question.id}: pulse answers must have whole-number values"
            )
    if len(factors) < 1:
        raise SurveyError(f"{where}: at least one factor is needed")
    return Survey(
        id=str(raw.get("id", "survey")),
        version=int(raw.get("version", 1)),
        languages=languages,
        scales=scales,
        factors=tuple(factors),
        background=background,
        extras=tuple(extras),
        questions=questions,
    )


def _require(raw: dict[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] is None:
        raise SurveyError(f"{where}: missing {key!r}")
    return raw[key]
