"""No two numbers in the posted summary of the demo round contradict each other.

The demo round has people who finished, people who stopped half-way (their answers are
sealed at close) and people who never answered: the title, the chart, the bullets and the
participation table must count them the same way, or say what each count counts.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.conversation import Conversation
from bot.demo import run_demo
from bot.summaries import SummaryOptions, compose, messages
from bot.summary_chart import chart_figure
from bot.summary_text import participation_lines
from storage.models import Round
from surveys.definition import Survey


def posted_demo_round(engine: Conversation, lang: str = "nb"):
    counts = run_demo(engine, seed=7)
    closed = engine.close_round()
    assert closed is not None
    with engine.db.transaction() as session:
        round_ = session.scalars(select(Round).where(Round.id == closed.id)).one()
        summary = compose(session, engine.survey, round_, SummaryOptions(k=5, language=lang),
                          "post", engine.clock())  # fmt: skip
    caption, body = (m.text for m in messages(summary, engine.survey, lang))
    return counts, summary, caption, body


def ints(pattern: str, text: str) -> list[int]:
    return [int(x) for x in re.findall(pattern, text)]


def test_the_demo_rounds_numbers_agree(engine: Conversation, survey: Survey) -> None:
    counts, summary, caption, body = posted_demo_round(engine)
    assert counts["partial"] > 0  # the case that made "n=98" beside "90 svarte"

    [head] = re.findall(r"Pulsrunde 1: (\d+) av (\d+) svarte", caption)
    answered, invited = int(head[0]), int(head[1])
    assert answered == counts["finished"] and invited == counts["people"]
    [partial] = ints(r"(\d+) til svarte på en del av spørsmålene", caption)
    assert partial == counts["partial"] == summary.submissions - answered

    # The chart's title counts the same people as the caption.
    figure = chart_figure(summary, survey, "nb")
    title = figure.axes[0].get_title(loc="left").replace("\n", " ")
    assert ints(r"\((\d+) svarte\)", title) == [answered]

    # Every count of answers in the bullets is at most everyone who answered anything; any
    # count above the finished ones says that it includes those who did not finish.
    for line in body.splitlines():
        for n in (
            ints(r"\(n=(\d+)\)", line)
            + ints(r"(\d+) svar\b", line)
            + ints(r"av de (\d+) som", line)
        ):
            assert n <= answered + partial, line
            if n > answered:
                assert "ikke svarte ferdig" in line, line

    # A factor's n is the same in its priority line, the factor table and the chart.
    table = dict(re.findall(r"^(.+?): [\d,]+ / [\d,]+ / [+−][\d,]+ \(n=(\d+)\)$", body, re.M))
    for name, n in re.findall(r"^\d\. (.+?): viktighet .*?; (\d+) svar\)\.$", body, re.M):
        assert table[name] == n
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    for name, n in table.items():
        assert any(label.replace("\n", " ").startswith(name) and f"n={n}" in label
                   for label in labels), name  # fmt: skip

    # Quitting by profession never adds up to more than the quitting share's n.
    [quit_n] = ints(r"Har vurdert å slutte: .*?; (\d+) svar\)", body)
    assert sum(ints(r"\(n=(\d+)\)", body.split("Etter yrke:")[1].splitlines()[0])) <= quit_n

    # No warning about few answers when neither round was small; the table's total is the
    # caption's.
    assert "under 30" not in caption + body
    table_text = "\n".join(participation_lines(summary, survey, "nb"))
    assert f"I alt: {answered} av {invited}" in table_text
    shown = [tuple(map(int, m)) for m in re.findall(r": (\d+) av (\d+) \(", table_text)]
    assert sum(a for a, _ in shown[:-1]) <= answered

    # The same counts, said in nynorsk and English.
    caption_nn, body_nn = (m.text for m in messages(summary, survey, "nn"))
    assert f"{partial} til svara på ein del av spørsmåla" in caption_nn
    assert "også blant dei som ikkje svara ferdig" in body_nn and "går på omgang" in body_nn
    caption_en, body_en = (m.text for m in messages(summary, survey, "en"))
    assert f"{partial} more answered some of the questions" in caption_en
    assert "including those who did not finish" in body_en
