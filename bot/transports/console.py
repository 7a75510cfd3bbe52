"""The console transport: a person answers in the terminal, against the real engine.

Choices are shown numbered; typing a number presses that button. Anything starting with
`/` is a command, anything else is free text — exactly as a chat platform would deliver it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from bot.ports import (
    Address,
    ChoicePressed,
    Command,
    InboundEvent,
    OutgoingMessage,
    Reply,
    TextReceived,
)

PLATFORM = "console"


class ConsoleTransport:
    """Prints messages and remembers the newest buttons so a typed number can press one."""

    platform = PLATFORM

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self.write = write
        self._ids = itertools.count(1)
        self.choices: list[str] = []

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        self.show(message)
        return str(next(self._ids))

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        self.write("[styringsgruppe] " + message.text)
        if message.image:
            self.write(f"[bilde: {message.image_name}, {len(message.image)} bytes]")
        return str(next(self._ids))

    def show(self, message: OutgoingMessage) -> None:
        self.write("")
        self.write(message.text)
        if message.choices:
            self.write("  ".join(f"[{i}] {c.label}" for i, c in enumerate(message.choices, 1)))
            self.choices = [c.data for c in message.choices]

    def show_reply(self, reply: Reply) -> None:
        if reply.edit is not None:
            self.choices = []
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
        if line.isdigit() and self.choices and 1 <= int(line) <= len(self.choices):
            return ChoicePressed(address, self.choices[int(line) - 1])
        return TextReceived(address, line)
