"""Block Kit rendering of outgoing messages, kept apart from any network I/O.

Every message is built from `slack_sdk.models` objects, whose `to_dict()` validates Slack's
limits (section text ≤ 3000, button value ≤ 2000, action_id ≤ 255, ≤ 25 elements per actions
block), so an invalid message fails here, in our code, not as `invalid_blocks` from Slack.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.i18n import t
from bot.ports import OutgoingMessage

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FALLBACK = 3000
MAX_BUTTON_TEXT = 75
MAX_PER_ACTIONS = 25
MAX_METADATA = 3000

CHOICE_ACTION = "beholde_choice"  # action ids are f"{CHOICE_ACTION}:{index}": unique per message
TEXT_ACTION = "beholde_text"  # the button that opens the free-text form
TEXT_VIEW = "beholde_text"  # callback id of that form
TEXT_BLOCK = "answer"
TEXT_INPUT = "text"


def label(lang: str, key: str) -> str:
    """The answer form's words (`slack_form_<key>` in the text catalogue)."""
    return t(lang, f"slack_form_{key}")


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn and plain message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Cut long text into pieces ≤ limit, at line breaks or spaces where possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest or " ")
    return pieces


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(
    message: OutgoingMessage, lang: str = "nb", buttons: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    """The fallback `text` and the validated `blocks` for one message.

    Buttons carry the choice's opaque data as value; free-text questions get a button that
    opens a form (the answer can also be typed into the chat).
    """
    escaped = escape(message.text)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=piece, verbatim=True))
        for piece in split_text(escaped)
    ]
    elements: list[ButtonElement] = []
    if buttons:
        if message.free_text:
            elements.append(
                ButtonElement(
                    text=PlainTextObject(text=label(lang, "write")),
                    action_id=TEXT_ACTION,
                    value="open",
                    style="primary",
                )
            )
        for index, choice in enumerate(message.choices):
            elements.append(
                ButtonElement(
                    text=PlainTextObject(text=_shorten(choice.label, MAX_BUTTON_TEXT)),
                    action_id=f"{CHOICE_ACTION}:{index}",
                    value=choice.data,
                )
            )
    actions = [
        ActionsBlock(elements=elements[i : i + MAX_PER_ACTIONS])
        for i in range(0, len(elements), MAX_PER_ACTIONS)
    ]
    room = MAX_BLOCKS - len(actions)
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], SectionBlock(text=MarkdownTextObject(text="…"))]
    blocks.extend(actions)
    return _shorten(escaped, MAX_FALLBACK), [block.to_dict() for block in blocks]


def text_form(lang: str, max_chars: int, metadata: dict[str, str]) -> dict[str, Any]:
    """The modal for a free-text answer; `metadata` says which message to update afterwards."""
    private = json.dumps(metadata, ensure_ascii=False)
    if len(private) > MAX_METADATA:
        private = json.dumps({k: v for k, v in metadata.items() if k != "text"})
    view = View(
        type="modal",
        callback_id=TEXT_VIEW,
        title=PlainTextObject(text=label(lang, "title")),
        submit=PlainTextObject(text=label(lang, "submit")),
        close=PlainTextObject(text=label(lang, "close")),
        private_metadata=private,
        blocks=[
            InputBlock(
                block_id=TEXT_BLOCK,
                label=PlainTextObject(text=label(lang, "input")),
                element=PlainTextInputElement(
                    action_id=TEXT_INPUT, multiline=True, max_length=max(1, min(max_chars, 3000))
                ),
            )
        ],
    )
    return view.to_dict()
