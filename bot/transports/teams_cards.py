"""Engine messages as Teams activities: plain text, Adaptive Cards with buttons, inline charts.

A message with buttons becomes one Adaptive Card: the question, then its scale as buttons
(rows of at most six, as Teams shows no more side by side). A button submits only the
engine's own choice data (`{"b": data}`), the same opaque string Telegram and Slack carry;
the engine checks it against the presser's open question, so nobody can answer for someone
else by editing it. A question that also takes typed text gets a text input on the card.

Text is never markup: plain messages go with `textFormat: plain`, and card text is written
as a `TextRun`, which Adaptive Cards render literally (no Markdown), so a task title or a
name from the roster cannot become a link or formatting.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from bot.i18n import t
from bot.ports import Choice, OutgoingMessage

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
ROW = 6  # buttons side by side
TEXT_INPUT = "answer"
MAX_TEXT_ANSWER = 3000
CHOICE_KEY = "b"  # {"b": choice data}: a pressed button
TEXT_KEY = "t"  # {"t": 1, "answer": "..."}: the card's text input was sent


def activity(message: OutgoingMessage, lang: str = "nb", buttons: bool = True) -> dict[str, Any]:
    """The Bot Connector activity for one engine message."""
    if message.image is not None:
        return {
            "type": "message",
            "text": message.text,
            "textFormat": "plain",
            "attachments": [
                {
                    "contentType": "image/png",
                    "contentUrl": "data:image/png;base64,"
                    + base64.b64encode(message.image).decode("ascii"),
                    "name": message.image_name,
                }
            ],
        }
    if buttons and (message.choices or message.free_text):
        return {
            "type": "message",
            "summary": message.text[:200],
            "attachments": [{"contentType": CARD_TYPE, "content": card(message, lang)}],
        }
    if not buttons:  # a card updated in place: stays a card, without anything to press
        return {
            "type": "message",
            "attachments": [{"contentType": CARD_TYPE, "content": card(message, lang, False)}],
        }
    return {"type": "message", "text": message.text, "textFormat": "plain"}


def card(message: OutgoingMessage, lang: str = "nb", buttons: bool = True) -> dict[str, Any]:
    """One question per card: literal text, the scale as buttons, an optional text input."""
    body: list[dict[str, Any]] = [literal(message.text)]
    if buttons:
        body.extend(button_rows(message.choices))
        if message.free_text:
            body.append(
                {
                    "type": "Input.Text",
                    "id": TEXT_INPUT,
                    "isMultiline": True,
                    "maxLength": MAX_TEXT_ANSWER,
                    "placeholder": t(lang, "teams_text_placeholder"),
                }
            )
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.Submit",
                            "title": t(lang, "teams_send_text"),
                            "data": {TEXT_KEY: 1},
                        }
                    ],
                }
            )
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }


def literal(text: str) -> dict[str, Any]:
    """Text shown exactly as written (a TextRun knows no Markdown)."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text}]}


def button_rows(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    rows = []
    for start in range(0, len(choices), ROW):
        rows.append(
            {
                "type": "ActionSet",
                "actions": [
                    {"type": "Action.Submit", "title": c.label, "data": {CHOICE_KEY: c.data}}
                    for c in choices[start : start + ROW]
                ],
            }
        )
    return rows


def pressed(value: Any) -> str | None:
    """The choice data of a pressed button, or None if this submit was not a button."""
    if isinstance(value, dict) and isinstance(value.get(CHOICE_KEY), str):
        return str(value[CHOICE_KEY])[:64]
    return None


def typed(value: Any) -> str | None:
    """The text sent from a card's input, or None."""
    if isinstance(value, dict) and TEXT_KEY in value:
        return str(value.get(TEXT_INPUT) or "")[:MAX_TEXT_ANSWER]
    return None


def card_text(activity_json: dict[str, Any]) -> str:
    """The literal text of an activity (plain text or a card), for tests and logs-free checks."""
    parts = [str(activity_json.get("text") or "")]
    for attachment in activity_json.get("attachments") or []:
        content = attachment.get("content") or {}
        for block in content.get("body") or []:
            for inline in block.get("inlines") or []:
                parts.append(str(inline.get("text") or ""))
    return "\n".join(p for p in parts if p)


def buttons_of(activity_json: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, choice data) of every button on an activity's card."""
    found = []
    for attachment in activity_json.get("attachments") or []:
        for block in (attachment.get("content") or {}).get("body") or []:
            for action in block.get("actions") or []:
                data = action.get("data") or {}
                if CHOICE_KEY in data:
                    found.append((str(action.get("title")), str(data[CHOICE_KEY])))
    return found
