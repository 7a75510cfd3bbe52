"""The pulse as a person walks it: first contact, background questions, the pulse's
questions one at a time, the answers, and the end (sealed anonymously, one figure back).

Every step is decided from storage alone, so a restart or another instance continues where
the person stopped. How a question looks is `bot.pulse_render`; which round is open and who
is invited is `bot.round_admin`.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from bot import pulse_render as render
from bot import quote_consent
from bot.engine_base import DEFAULT_ORGANISATION, SKIP, Basis
from bot.i18n import t
from bot.ports import OutgoingMessage, Reply
from storage import answers, prompts, releases
from storage.models import Invitation, PendingAnswer, Person, Prompt, Round
from surveys.planning import background_to_ask, plan_for_slot

log = logging.getLogger("bot.conversation")


class PulseFlow:
    """The steps of onboarding and of a pulse for one engine."""

    def __init__(self, basis: Basis) -> None:
        self.basis = basis

    # ----------------------------------------------------------------- first contact

    def first_contact(
        self, session: Session, person: Person, now: dt.datetime
    ) -> list[OutgoingMessage]:
        """Greeting, the anonymity promise, then background questions or the pulse."""
        lang, config = person.language, self.basis.config
        first_name = person.name.split(" ")[0]
        organisation = config.organisation
        if organisation == DEFAULT_ORGANISATION:  # not configured: "the learning network"
            organisation = t(lang, "walk_default_organisation")
        welcome = t(lang, "welcome", name=first_name, organisation=organisation)
        messages = [OutgoingMessage(welcome + "\n\n" + t(lang, "promise", k=config.k))]
        if self.background_left(person):
            messages.append(OutgoingMessage(t(lang, "background_intro")))
        messages.extend(self.next_step(session, person, now))
        return messages

    def background_left(self, person: Person) -> list[str]:
        survey = self.basis.survey
        known = {q.id: getattr(person, q.id, None) for q in survey.background}
        return background_to_ask(survey, known, set(person.skipped_background or []))

    # ----------------------------------------------------------------- what comes next

    def next_step(
        self, session: Session, person: Person, now: dt.datetime, explicit: bool = False
    ) -> list[OutgoingMessage]:
        """The next message this person should see, decided only from storage."""
        lang = person.language
        left = self.background_left(person)
        if person.onboarded_at is None:
            if left:
                return [self.background_question(session, person, left[0], now)]
            person.onboarded_at = now
            prompts.retire(session, person.id, "background", now)  # copies asked twice
            round_ = answers.current_round(session)
            if round_ is None or person.status != "active":
                return [OutgoingMessage(t(lang, "onboarded_next"))]
            return [
                OutgoingMessage(t(lang, "onboarded_open")),
                *self.pulse_step(session, person, round_, now),
            ]
        if person.status != "active":
            return []
        round_ = answers.current_round(session)
        if round_ is None:
            return [OutgoingMessage(t(lang, "no_round"))] if explicit else []
        return self.pulse_step(session, person, round_, now, explicit=explicit)

    def pulse_step(
        self,
        session: Session,
        person: Person,
        round_: Round,
        now: dt.datetime,
        explicit: bool = True,
    ) -> list[OutgoingMessage]:
        invitation = self.ensure_invitation(session, round_, person)
        if invitation.status != "invited":
            return [OutgoingMessage(t(person.language, "already_done"))] if explicit else []
        quote_consent.skip_open(session, invitation, person, now)  # moving on is a no
        pending = answers.pending_answers(session, invitation.id)
        sequence = self.expanded(session, invitation, pending)
        remaining = [q for q in sequence if q not in pending]
        if not remaining:
            return self.finish(session, person, invitation, now)
        messages: list[OutgoingMessage] = []
        if not pending:
            messages.append(render.pulse_intro(self.basis.survey, sequence, person.language))
        messages.append(self.pulse_question(session, person, invitation, remaining[0], now))
        return messages

    def ensure_invitation(self, session: Session, round_: Round, person: Person) -> Invitation:
        """The person's invitation to the open round, created (with its plan) if missing."""
        invitation = answers.invitation_for(session, round_.id, person.id)
        if invitation is None:
            slot = answers.take_slots(session, round_)
            invitation = answers.invite(session, round_, person.id, self.plan(round_, slot))
        return invitation

    def plan(self, round_: Round, slot: int) -> list[str]:
        """The questions of one plan slot: which factors, and the extra question."""
        survey = self.basis.survey
        plan = plan_for_slot(
            slot, round_.number, survey.factor_ids, survey.extra_ids(), round_.per_pulse
        )
        return plan.question_ids()

    def expanded(
        self,
        session: Session,
        invitation: Invitation,
        pending: dict[str, PendingAnswer] | None = None,
    ) -> list[str]:
        """The plan with its follow-ups; `pending`: the answers so far, if the caller has them."""
        if pending is None:
            pending = answers.pending_answers(session, invitation.id)
        values = {qid: row.value for qid, row in pending.items()}
        return render.expanded(self.basis.survey, list(invitation.plan or []), values)

    def pulse_question(
        self, session: Session, person: Person, invitation: Invitation, qid: str, now: dt.datetime
    ) -> OutgoingMessage:
        token = prompts.create(session, person.id, "pulse", now, invitation.id, qid)
        position, total = render.counter(list(invitation.plan or []), qid)
        question = self.basis.survey.question(qid)
        return render.pulse_question(question, token, person.language, position, total)

    def background_question(
        self, session: Session, person: Person, qid: str, now: dt.datetime
    ) -> OutgoingMessage:
        token = prompts.create(session, person.id, "background", now, question_id=qid)
        return render.background_question(self.basis.survey.question(qid), token, person.language)

    # ----------------------------------------------------------------- answers

    def background_answer(
        self, session: Session, person: Person, prompt: Prompt, value: str, now: dt.datetime
    ) -> Reply:
        lang = person.language
        question = self.basis.survey.question(prompt.question_id or "")
        if value != SKIP and (question.scale is None or not question.scale.is_valid(value)):
            return Reply(notice=t(lang, "invalid_value"))
        if not prompts.claim(session, prompt.token, now):
            return Reply(notice=t(lang, "already_answered"))
        if value == SKIP:
            person.skipped_background = [*(person.skipped_background or []), question.id]
            label = t(lang, "skip")
        else:
            setattr(person, question.id, value)
            label = question.scale.label(value, lang) if question.scale else value
        edit = render.answered(question, lang, t(lang, "chosen", label=label), background=True)
        return Reply(edit=edit, messages=self.next_step(session, person, now))

    def pulse_answer(
        self,
        session: Session,
        person: Person,
        prompt: Prompt,
        value: str | None,
        text: str | None,
        now: dt.datetime,
        pending: dict[str, PendingAnswer] | None = None,
    ) -> Reply:
        """Store a pressed value (`value`) or a typed comment (`text`) and go on; `pending`:
        the prompt's answers so far, if the caller read them with the prompt."""
        lang = person.language
        invitation = session.get(Invitation, prompt.invitation_id) if prompt.invitation_id else None
        round_ = session.get(Round, invitation.round_id) if invitation else None
        if (
            invitation is None
            or round_ is None
            or round_.status != "open"
            or invitation.status != "invited"
        ):
            return Reply(notice=t(lang, "stale_button"))
        qid = prompt.question_id or ""
        if pending is None:
            pending = answers.pending_answers(session, invitation.id)  # read once per press
        if qid not in self.expanded(session, invitation, pending):
            log.info("answer to a question outside the person's pulse ignored")
            return Reply(notice=t(lang, "stale_button"))
        question = self.basis.survey.question(qid)
        stored_value: int | None = None
        stored_text: str | None = None
        if question.is_free_text:
            if value not in (None, SKIP):
                return Reply(notice=t(lang, "invalid_value"))
            if value is None:
                stored_text = text
        else:
            if value is None or question.scale is None or not question.scale.is_valid(value):
                return Reply(notice=t(lang, "invalid_value"))
            stored_value = int(value)
        if not prompts.claim(session, prompt.token, now):
            return Reply(notice=t(lang, "already_answered"))
        pending = {
            **pending,
            qid: answers.store_pending(session, invitation.id, qid, stored_value, stored_text),
        }
        position, total = render.counter(list(invitation.plan or []), qid)
        if question.is_free_text:
            label = t(lang, "text_saved") if stored_text else t(lang, "skip")
        else:
            shown = question.scale.label(value or "", lang) if question.scale else str(value)
            label = t(lang, "chosen", label=shown)
        edit = render.answered(question, lang, label, position, total)
        if stored_text:  # "Kan vi sitere deg anonymt?" right after the comment
            ask = quote_consent.ask(session, person, invitation, qid, now, self.basis.config)
            return Reply(edit=edit, messages=[ask])
        return Reply(edit=edit, messages=self.proceed(session, person, invitation, now, pending))

    def consent_answer(
        self, session: Session, person: Person, prompt: Prompt, value: str, now: dt.datetime
    ) -> Reply:
        """Store the yes or no to being quoted with the comment; then the pulse goes on."""
        lang = person.language
        invitation = session.get(Invitation, prompt.invitation_id) if prompt.invitation_id else None
        round_ = session.get(Round, invitation.round_id) if invitation else None
        if invitation is None or round_ is None or round_.status != "open":
            return Reply(notice=t(lang, "stale_button"))
        if invitation.status != "invited":
            return Reply(notice=t(lang, "stale_button"))
        if value not in quote_consent.ANSWERS:
            return Reply(notice=t(lang, "invalid_value"))
        if not prompts.claim(session, prompt.token, now):
            return Reply(notice=t(lang, "already_answered"))
        answers.set_quote_consent(session, invitation.id, prompt.question_id or "", value == "yes")
        edit = quote_consent.answered(lang, value, self.basis.config)
        pending = answers.pending_answers(session, invitation.id)
        return Reply(edit=edit, messages=self.proceed(session, person, invitation, now, pending))

    def proceed(
        self,
        session: Session,
        person: Person,
        invitation: Invitation,
        now: dt.datetime,
        pending: dict[str, PendingAnswer],
    ) -> list[OutgoingMessage]:
        """The next question of the pulse, or its end."""
        remaining = [q for q in self.expanded(session, invitation, pending) if q not in pending]
        if not remaining:
            return self.finish(session, person, invitation, now)
        return [self.pulse_question(session, person, invitation, remaining[0], now)]

    def only_consent_left(self, session: Session, invitation: Invitation) -> bool:
        """Every question is answered; only "may we quote you?" is still open."""
        pending = answers.pending_answers(session, invitation.id)
        return all(q in pending for q in self.expanded(session, invitation, pending))

    # ----------------------------------------------------------------- finishing

    def finish(
        self, session: Session, person: Person, invitation: Invitation, now: dt.datetime
    ) -> list[OutgoingMessage]:
        """Seal the pulse (nothing links the person to it afterwards), thank, give one figure."""
        lang, config = person.language, self.basis.config
        feedback = self.feedback(session, person, invitation)
        today = now.astimezone(config.tz).date()
        answers.seal(session, invitation, person, today, complete=True, k=config.k)
        answers.flush_holding(session, invitation.round_id, config.k)
        log.info("a pulse was finished")
        messages = [OutgoingMessage(t(lang, "done"))]
        if feedback:
            messages.append(OutgoingMessage(feedback))
        return messages

    def feedback(self, session: Session, person: Person, invitation: Invitation) -> str | None:
        """One thing back: last round's mean in their municipality, if the group is big enough."""
        if not person.municipality:
            return None
        round_ = session.get(Round, invitation.round_id)
        previous = answers.latest_closed_round(
            session, before_number=round_.number if round_ else None
        )
        if previous is None:
            return None
        survey, k = self.basis.survey, self.basis.config.k
        for qid in invitation.plan or []:
            if not qid.endswith(".exp"):
                continue
            shown_mean = releases.release_group_mean(
                session, previous.id, qid[:-4], "municipality", person.municipality,
                k, "feedback", self.basis.clock().date(),
            )  # fmt: skip
            if shown_mean is not None:
                mean, n = shown_mean
                lang = person.language
                factor = survey.factor(qid.split(".")[0]).short[lang]
                name = survey.scales["municipality"].label(person.municipality, lang)
                shown = f"{mean:.1f}".replace(".", ",") if lang != "en" else f"{mean:.1f}"
                return t(lang, "done_feedback", municipality=name, mean=shown, factor=factor, n=n)
        return None
