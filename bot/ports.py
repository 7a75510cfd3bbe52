"""The transport port: what the conversation engine needs from any chat platform.

The engine speaks only in these types. A transport translates platform payloads into
inbound events and outgoing messages into platform calls, and nothing else.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Address:
    """A person's or channel's chat on one platform."""

    platform: str
    chat_id: str


@dataclass(frozen=True)
class Choice:
    """A button. `data` is opaque to transports and at most 40 ASCII characters."""

    label: str
    data: str


@dataclass(frozen=True)
class OutgoingMessage:
    """Plain text with optional buttons, or an image with a caption."""

    text: str
    choices: tuple[Choice, ...] = ()
    image: bytes | None = None
    image_name: str = "chart.png"
    free_text: bool = False  # the engine also takes a typed answer to this message

    def to_payload(self) -> dict[str, Any]:
        """A JSON-safe form for the outbox (an image travels as base64)."""
        payload: dict[str, Any] = {
            "text": self.text,
            "choices": [[c.label, c.data] for c in self.choices],
            "free_text": self.free_text,
        }
        if self.image is not None:
            payload["image_b64"] = base64.b64encode(self.image).decode("ascii")
            payload["image_name"] = self.image_name
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> OutgoingMessage:
        return cls(
            text=str(payload["text"]),
            choices=tuple(
                Choice(str(label), str(data)) for label, data in payload.get("choices", [])
            ),
            free_text=bool(payload.get("free_text", False)),
            image=base64.b64decode(payload["image_b64"]) if payload.get("image_b64") else None,
            image_name=str(payload.get("image_name") or "chart.png"),
        )


@dataclass(frozen=True)
class Command:
    """`/puls`, `/samling ny …`: a command name (lower case, no slash) and its arguments."""

    address: Address
    name: str
    args: tuple[str, ...] = ()
    display_name: str | None = None
    # The whole line, when it was typed without a slash (Teams users type "samling liste"):
    # while a typed answer is awaited, such a line with words after the name is that answer.
    typed: str | None = None


@dataclass(frozen=True)
class ChoicePressed:
    address: Address
    data: str
    display_name: str | None = None


@dataclass(frozen=True)
class TextReceived:
    address: Address
    text: str
    display_name: str | None = None


InboundEvent = Command | ChoicePressed | TextReceived


@dataclass
class Reply:
    """What the engine answers to one inbound event.

    `edit` replaces the message whose button was pressed (to show the chosen value, with no
    buttons left to press twice); `notice` is a short acknowledgement a platform may show as a
    toast; `messages` follow in the same chat.

    Two facts a transport may act on, so that it never has to read the texts:
    `answered` is set when a typed answer was stored — the short thanks, which is also the
    first of `messages`; a platform that can mark the question itself (Slack's answer form)
    shows it there instead. `unknown_sender` is set when nobody is bound to the chat; a
    platform that can find people by e-mail may bind them and greet them instead.
    """

    messages: list[OutgoingMessage] = field(default_factory=list)
    edit: OutgoingMessage | None = None
    notice: str | None = None
    answered: str | None = None
    unknown_sender: bool = False


class SendError(Exception):
    """A send failed. `retry_after` (seconds) when the platform asked us to wait."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Transport(Protocol):
    """What every chat platform adapter offers the service."""

    platform: str

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        """Send and return the platform's message id; raise SendError on failure."""
        ...

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        """Post to the configured steering-group channel; raise SendError on failure."""
        ...
