"""The console transport: a person answers in the terminal, against the real engine.

Buttons are shown with a key to type. A button whose label is a number (a 0–10 scale) has
that number as its key, so typing 9 always means the value 9; other buttons on such a
question get letters ([a] Hopp over), and buttons without numbers are numbered 1, 2, 3.
Typing a button's label ("ja", "hopp over") presses it too. Anything starting with `/` is a
command, anything else is free text — exactly as a chat platform would deliver it.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Sequence

from bot.i18n import t
from bot.ports import (
    Address,
    Choice,
    ChoicePressed,
    Command,
    InboundEvent,
    OutgoingMessage,
    Reply,
    TextReceived,
)

PLATFORM = "console"


def _is_number(label: str) -> bool:
    return label.strip().lstrip("-").isdigit()


def button_keys(choices: Sequence[Choice]) -> list[str]:
    """The key a person types for each button, never confusable with a value on the scale.

    Numbered labels keep their own number; when any label is a number, the other buttons
    get letters; otherwise the buttons are numbered from 1.
    """
    if any(_is_number(c.label) for c in choices):
        letters = iter(string.ascii_lowercase)
        return [c.label.strip() if _is_number(c.label) else next(letters) for c in choices]
    return [str(i) for i in range(1, len(choices) + 1)]


class ConsoleTransport:
    """Prints messages and remembers the newest buttons so a typed number can press one."""

    platform = PLATFORM

    def __init__(
        self, write: Callable[[str], None] = print, lang: str = "nb", addressed: bool = False
    ) -> None:
        self.write = write
        self.lang = lang
        self.addressed = addressed  # `beholde deliver`: say whom each message is for
        self._ids = itertools.count(1)
        self.choices: dict[str, str] = {}  # what a person may type -> the button's data

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        if self.addressed:
            self.write("")
            self.write(t(self.lang, "console_to", who=address.chat_id))
        self.show(message)
        return str(next(self._ids))

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        self.write(t(self.lang, "console_steering", text=message.text))
        if message.image:
            self.write(f"[bilde: {message.image_name}, {len(message.image)} bytes]")
        return str(next(self._ids))

    def show(self, message: OutgoingMessage) -> None:
        self.write("")
        self.write(message.text)
        if message.choices:
            keys = button_keys(message.choices)
            self.write(
                "  ".join(f"[{k}] {c.label}" for k, c in zip(keys, message.choices, strict=True))
            )
            self.choices = {c.label.strip().casefold(): c.data for c in message.choices}
            self.choices.update({k: c.data for k, c in zip(keys, message.choices, strict=True)})

    def show_reply(self, reply: Reply) -> None:
        if reply.edit is not None:
            self.choices = {}
            self.write("✓ " + reply.edit.text.splitlines()[-1])
        if reply.notice:
            self.write("(" + reply.notice + ")")
        for message in reply.messages:
            self.show(message)

    def parse(self, address: Address, line: str) -> InboundEvent | None:
        """Turn a typed line into the event a chat platform would deliver."""
        line = line.strip()
        if not line:
            return None
        if line.startswith("/"):
            name, *args = line[1:].split()
            return Command(address, name.lower(), tuple(args))
        data = self.choices.get(" ".join(line.split()).casefold())
        if data is not None:
            return ChoicePressed(address, data)
        return TextReceived(address, line)
