"""SQLAlchemy 2 models.

The anonymity promise is in the shape of these tables:

* `people`, `addresses`, `invitations`, `pending_answers` and `prompts` know *who*.
* `responses` knows *what was answered*: round, question, value and a random submission
  key. No person id, no chat id, no time — and no background attribute.
* `facets` holds, each as its own record under its own random key and with nothing that
  joins it to another record, one background attribute with the answers a summary needs
  by it (a factor's two values by municipality, quitting by profession, position size…),
  each attribute kept only where at least k people on the roster share it.
* `holding` and `facet_holding` are the short-lived waiting rooms: a finished pulse waits
  there, without any link to a person, until at least k submissions can be shuffled into
  `responses` and `facets` together.

Nothing in these tables refers to a table that knows who; the schema test in
`tests/test_anonymity.py` checks that by reading the database's own metadata.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every database (SQLite has no time zones of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    """Someone on the roster. Identity data: deleted on request (`/meg slett`)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(320), unique=True)  # e-mail, or the name
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5), default="nb")
    role: Mapped[str] = mapped_column(String(20), default="employee")
    team: Mapped[str | None] = mapped_column(String(100))
    municipality: Mapped[str | None] = mapped_column(String(100))
    profession: Mapped[str | None] = mapped_column(String(50))
    age_band: Mapped[str | None] = mapped_column(String(20))
    tenure_band: Mapped[str | None] = mapped_column(String(20))
    position_band: Mapped[str | None] = mapped_column(String(20))
    shifts: Mapped[str | None] = mapped_column(String(5))
    skipped_background: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|paused|stopped
    onboarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Address(Base):
    """Where a person is reached: one chat per platform."""

    __tablename__ = "addresses"
    __table_args__ = (
        UniqueConstraint("platform", "chat_id", name="uq_addresses_platform_chat"),
        UniqueConstraint("person_id", "platform", name="uq_addresses_person_platform"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InviteCode(Base):
    """A one-time registration code, stored only as a hash."""

    __tablename__ = "invite_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Round(Base):
    """A pulse round: open for some days, then closed and summarised."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    # A random value for reproducible presentation (e.g. which quotes a summary picks).
    # Never used for planning: plans must not be recomputable from the database.
    seed: Mapped[str] = mapped_column(String(64))
    # Plans handed out so far; a late joiner continues the cycle, keeping counts balanced.
    slots_used: Mapped[int] = mapped_column(Integer, default=0)
    per_pulse: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|closed
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Invitation(Base):
    """Who was asked in a round, and whether and on which day they finished (never what)."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id", name="uq_invitations_round_person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    # SET NULL on deletion keeps participation counts right after someone deletes their data.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # The person's questions while the pulse is under way; cleared when it ends.
    plan: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="invited")  # invited|finished|closed
    finished_on: Mapped[dt.date | None] = mapped_column(Date)
    nudged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PendingAnswer(Base):
    """An answer of an unfinished pulse: linked to the person only until the pulse ends."""

    __tablename__ = "pending_answers"
    __table_args__ = (
        UniqueConstraint("invitation_id", "question_id", name="uq_pending_invitation_question"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    # The writer said yes to "Kan vi sitere deg anonymt?" right after this comment.
    quote_ok: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class _AnonymousAnswer:
    """Columns shared by `holding` and `responses`: no person, no chat, no time."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not a sequence
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    submission_key: Mapped[str] = mapped_column(String(32))  # random per submission
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    # A comment may be quoted (scrubbed) only if this is true; otherwise it counts in themes.
    quote_ok: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    complete: Mapped[bool] = mapped_column(Boolean, default=True)


class Holding(_AnonymousAnswer, Base):
    """Finished submissions waiting until at least k can be shuffled into `responses`."""

    __tablename__ = "holding"


class Response(_AnonymousAnswer, Base):
    """One anonymous answer. The only table summaries read answers from."""

    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_round_question", "round_id", "question_id"),)


class _AnonymousFacet:
    """One attribute and the answers needed by it: no submission key, no person, no time."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not a sequence
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    facet: Mapped[str] = mapped_column(String(20))  # municipality | profession | position_80 …
    group_value: Mapped[str | None] = mapped_column(String(100))  # None: not given or rare
    item: Mapped[str] = mapped_column(String(40))  # "F01" (exp, imp) | "quit" | "" (attribute)
    value: Mapped[int | None] = mapped_column(Integer)
    value2: Mapped[int | None] = mapped_column(Integer)


class FacetHolding(_AnonymousFacet, Base):
    """Facet records of finished pulses, waiting with `holding` to be shuffled out."""

    __tablename__ = "facet_holding"


class Facet(_AnonymousFacet, Base):
    """One unlinked attribute record; the only place summaries read groups from."""

    __tablename__ = "facets"
    __table_args__ = (Index("ix_facets_round_facet_item", "round_id", "facet", "item"),)


class Prompt(Base):
    """A question or button set sent to a person; its random token is what a button carries.

    Buttons carry `token:value`, never an id that could be guessed: a forged or replayed press
    finds no open prompt and changes nothing.
    """

    __tablename__ = "prompts"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # pulse|background|delete|language|...
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str | None] = mapped_column(String(40))
    ref: Mapped[str | None] = mapped_column(String(100))  # purpose-specific reference
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message to be sent: written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_chat", "platform", "chat_id", "status"),  # per-chat order (0006_budgets)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(
        String(10), default="pending"
    )  # pending|sent|failed|dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    platform_message_id: Mapped[str | None] = mapped_column(String(100))


class InboundEvent(Base):
    """Platform deliveries already handled: a retried delivery hits the unique key and stops."""

    __tablename__ = "inbound_events"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# Tables that know who someone is. Answers must never refer to them.
IDENTITY_TABLES = (
    "people",
    "addresses",
    "invite_codes",
    "invitations",
    "pending_answers",
    "prompts",
)
ANONYMOUS_TABLES = ("holding", "responses", "facet_holding", "facets", "round_moments")
