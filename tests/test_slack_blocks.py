"""Every message beholde sends to Slack is valid Block Kit within Slack's limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.conversation import Conversation
from bot.ports import Choice, OutgoingMessage
from bot.transports.slack_blocks import render, split_text, text_form
from tests.fakes.slack_api import check_blocks


def validate(blocks: list[dict[str, Any]]) -> None:
    """Parse back with slack_sdk.models and validate each block as Slack would."""
    assert 0 < len(blocks) <= 50
    action_ids: list[str] = []
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None
        block.validate_json()
        if raw["type"] == "section":
            assert 0 < len(raw["text"]["text"]) <= 3000
        if raw["type"] == "actions":
            assert len(raw["elements"]) <= 25
            for element in raw["elements"]:
                assert len(element["value"]) <= 2000
                assert len(element["action_id"]) <= 255
                action_ids.append(element["action_id"])
    assert len(action_ids) == len(set(action_ids))
    assert check_blocks(blocks) is None  # the fake Slack API agrees


def test_a_scale_question_is_a_section_and_a_row_of_buttons() -> None:
    choices = tuple(Choice(str(v), f"tok123:{v}") for v in range(1, 7))
    text, blocks = render(
        OutgoingMessage("Hvor mye opplever du <godt fagmiljø> & støtte?", choices)
    )
    validate(blocks)
    assert [b["type"] for b in blocks] == ["section", "actions"]
    assert "&lt;godt fagmiljø&gt; &amp; støtte" in blocks[0]["text"]["text"]
    assert [e["value"] for e in blocks[1]["elements"]] == [c.data for c in choices]
    assert text.startswith("Hvor mye")


def test_long_text_many_buttons_and_long_labels_stay_within_limits() -> None:
    text = "\n".join(f"Linje {i}: " + "ord " * 40 for i in range(400))  # ~70 000 characters
    choices = tuple(Choice("Et svært langt knappenavn " * 5, f"t:{i}") for i in range(60))
    fallback, blocks = render(OutgoingMessage(text, choices))
    validate(blocks)
    assert len(fallback) <= 3000
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 60  # every choice is kept; only text is cut when room runs out


def test_free_text_question_has_a_form_button_and_skip() -> None:
    message = OutgoingMessage(
        "Hva ville fått deg til å bli?", (Choice("Hopp over", "t:skip"),), free_text=True
    )
    _, blocks = render(message, "en")
    validate(blocks)
    elements = blocks[-1]["elements"]
    assert (
        elements[0]["action_id"] == "beholde_text"
        and elements[0]["text"]["text"] == "Write an answer"
    )
    assert elements[1]["value"] == "t:skip"


def test_an_edited_message_has_no_buttons() -> None:
    _, blocks = render(OutgoingMessage("Valgt: 4", (Choice("1", "t:1"),)), buttons=False)
    validate(blocks)
    assert all(b["type"] != "actions" for b in blocks)


def test_form_is_a_valid_modal_even_with_long_metadata() -> None:
    view = text_form("nb", 1000, {"c": "D1", "ts": "1.2", "text": "x" * 5000})
    View(**view).validate_json()
    assert len(view["private_metadata"]) <= 3000
    input_block = Block.parse(view["blocks"][0])
    assert input_block is not None
    input_block.validate_json()


@pytest.mark.parametrize("size", [0, 1, 2999, 3000, 3001, 9000])
def test_split_text_respects_the_limit(size: int) -> None:
    pieces = split_text("a" * size)
    assert all(0 < len(p) <= 3000 for p in pieces)
    assert "".join(pieces).strip() == "a" * size


def test_every_question_of_the_survey_renders_valid_blocks(engine: Conversation) -> None:
    survey = engine.survey
    assert len(survey.questions) > 20
    for question in survey.questions.values():
        for lang in ("nb", "en", "nn"):
            choices = engine._choices(question, "a" * 16, lang, skippable=True)
            text = engine.question_text(question, lang, 2, 7)
            _, blocks = render(
                OutgoingMessage(text, choices, free_text=question.is_free_text), lang
            )
            validate(blocks)
