"""Teams conversation references: where beholde can write to a person on Microsoft Teams.

A Teams chat is reached through the Bot Connector at the *service URL* the activity came
from, in the personal conversation created when the app was installed. A person's Teams
address (`addresses.chat_id`) is their Entra object id; this row says where that chat is.
It is identity data: it is stored only for people on the roster, and it goes with them
(`ON DELETE CASCADE`) when they ask to be forgotten.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class TeamsConversation(Base):
    """The personal conversation with one Teams user (their Entra object id)."""

    __tablename__ = "teams_conversations"

    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(400))
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
