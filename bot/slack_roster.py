"""Find rostered people on Slack by e-mail and greet them (`beholde roster sync-slack`).

Each person with an e-mail and no Slack chat yet is looked up with `users.lookupByEmail`
(Tier 3, paced by the sender). A match is bound to the person and, if they have not met the
bot before, their first contact (greeting, the anonymity promise, background questions) is
put in the durable outbox in the same transaction — `beholde serve` sends it. Running it
again finds only people still unmatched and never greets anyone twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.conversation import Conversation
from bot.network import plan_for_newcomers
from bot.ports import SendError
from bot.transports.slack import PLATFORM
from bot.transports.slack_sender import SlackSender
from storage import people


@dataclass
class SyncResult:
    matched: int = 0
    greeted: int = 0
    not_found: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _unmatched(engine: Conversation) -> list[tuple[int, str, str]]:
    with engine.db.transaction() as session:
        found = people.not_on(session, PLATFORM, with_email=True, include_stopped=True)
        return [(p.id, p.name, p.email) for p in found if p.email]


def bind_and_greet(engine: Conversation, person_id: int, user_id: str) -> bool:
    """Bind the Slack user; queue the first contact if the person is new. True if greeted."""
    now = engine.clock()
    with engine.db.transaction() as session:
        person = people.get(session, person_id)
        if person is None:
            return False
        people.bind_address(session, person, PLATFORM, user_id, now)
        if person.onboarded_at is not None or person.status != "active":
            return False
        messages = engine.first_contact(session, person, now)
        engine.queue(session, person, messages, "slack-sync", now, kind="greeting")
        return True


async def sync_slack_roster(engine: Conversation, sender: SlackSender) -> SyncResult:
    """Match every unmatched rostered person with an e-mail; see the module docstring."""
    result = SyncResult()
    for person_id, name, email in await asyncio.to_thread(_unmatched, engine):
        try:
            user_id = await sender.lookup_email(email)
        except SendError as error:
            result.errors.append(f"{name}: {error.reason}")
            if error.reason in ("invalid_auth", "not_authed", "missing_scope", "token_revoked"):
                break  # every further lookup would fail the same way
            continue
        if user_id is None:
            result.not_found.append(name)
            continue
        result.matched += 1
        if await asyncio.to_thread(bind_and_greet, engine, person_id, user_id):
            result.greeted += 1
    if result.matched:
        await asyncio.to_thread(plan_reminders, engine)
    return result


def plan_reminders(engine: Conversation) -> int:
    """Once after a sync: reminders of gatherings and tasks planned before someone joined or
    came back (issue 14); what is planned already is not planned twice."""
    with engine.db.transaction() as session:
        return plan_for_newcomers(session, engine.config.tz, engine.clock())
