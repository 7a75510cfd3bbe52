"""Round administration: open and close pulse rounds, invite everyone reachable, run the
round-closed hooks, and queue a person's messages in the outbox.

Opening invites everyone reachable and queues each first message in the same transaction,
so a crash leaves either an open round with every first question queued, or nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.engine_base import Basis
from bot.ports import OutgoingMessage
from bot.pulse_flow import PulseFlow
from storage import answers, outbox, people
from storage.models import Person, Round
from surveys.planning import seeded_order

log = logging.getLogger("bot.conversation")


class RoundAdmin:
    """Rounds for one engine; each person's first step comes from the pulse flow."""

    def __init__(
        self, basis: Basis, flow: PulseFlow, closed_hooks: list[Callable[[int], None]]
    ) -> None:
        self.basis = basis
        self.flow = flow
        self.closed_hooks = closed_hooks  # the engine's list: features append to it

    def open_round(self, now: dt.datetime | None = None, days: int | None = None) -> Round:
        """Open a round, invite everyone reachable, and queue each first question."""
        now = now or self.basis.clock()
        with self.basis.db.transaction() as session:
            return self.open_round_in(session, now, days)

    def open_round_in(self, session: Session, now: dt.datetime, days: int | None = None) -> Round:
        config = self.basis.config
        days = days or config.round_days
        round_ = answers.open_round(session, now, now + dt.timedelta(days=days), config.per_pulse)
        eligible = people.reachable_people(session)
        ready = {str(p.id): p for p in eligible if p.onboarded_at is not None}
        first_slot = answers.take_slots(session, round_, len(ready))
        order = seeded_order(ready, config.planning_secret)
        for slot, key in enumerate(order, start=first_slot):
            answers.invite(session, round_, ready[key].id, self.flow.plan(round_, slot))
        for person in eligible:
            first = person.onboarded_at is None
            steps = (
                self.flow.first_contact(session, person, now)
                if first
                else self.flow.next_step(session, person, now)
            )
            self.queue(session, person, steps, f"round:{round_.number}:open", now)
        log.info("round %s opened", round_.number)
        return round_

    def close_round(self, now: dt.datetime | None = None) -> Round | None:
        """Close the open round (partial pulses are sealed anonymously) and call the hooks."""
        now = now or self.basis.clock()
        with self.basis.db.transaction() as session:
            round_ = self.close_round_in(session, now)
        if round_ is not None:
            self.run_round_closed_hooks(round_.id)
        return round_

    def close_round_in(self, session: Session, now: dt.datetime) -> Round | None:
        round_ = answers.current_round(session)
        if round_ is None:
            return None
        # A pulse that waits only for "may we quote you?" is finished: silence is a no.
        for invitation in answers.awaiting_consent(session, round_.id):
            person = session.get(Person, invitation.person_id) if invitation.person_id else None
            if person is not None and self.flow.only_consent_left(session, invitation):
                self.flow.finish(session, person, invitation, now)
        today = now.astimezone(self.basis.config.tz).date()
        answers.close_round(session, round_, now, today, self.basis.config.k)
        log.info("round %s closed", round_.number)
        return round_

    def run_round_closed_hooks(self, round_id: int) -> None:
        for hook in self.closed_hooks:
            try:
                hook(round_id)
            except Exception:  # a failing summary must not undo a closed round
                log.exception("a round-closed hook failed for round %s", round_id)

    def queue(
        self,
        session: Session,
        person: Person,
        messages: list[OutgoingMessage],
        key: str,
        now: dt.datetime,
        kind: str = "pulse",
    ) -> int:
        """Put messages for a person into the outbox (one row each, in order)."""
        address = people.preferred_address(session, person.id)
        if address is None:
            return 0
        return outbox.enqueue_all(
            session,
            key=f"{key}:person:{person.id}",
            platform=address.platform,
            chat_id=address.chat_id,
            kind=kind,
            payloads=[m.to_payload() for m in messages],
            now=now,
            person_id=person.id,
        )
