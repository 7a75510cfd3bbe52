"""Personal Telegram deep links, one per rostered person, for the leader (`beholde invite`).

A link is `https://t.me/<bot>?start=<code>`; Telegram hands the code to the bot as
`/start <code>` when the person taps Start, and the engine binds that chat to the person.
Codes carry 128 bits of randomness, are stored only as hashes, work once and expire
(BEHOLDE_INVITE_VALID_DAYS). Asking again replaces a person's earlier unused link.
"""

from __future__ import annotations

from bot.conversation import Conversation
from bot.i18n import LANGUAGES
from storage import people
from surveys.definition import Survey

PLATFORM = "telegram"


def municipality_id(survey: Survey, wanted: str) -> str | None:
    """Accept the id (`bodo`) or the name in any language (`Bodø`)."""
    scale = survey.scales.get("municipality")
    folded = wanted.strip().casefold()
    if scale is None:
        return wanted
    for value in scale.values():
        names = {value.casefold()}
        for lang in LANGUAGES:
            try:
                names.add(scale.label(value, lang).casefold())
            except (KeyError, ValueError):
                continue
        if folded in names:
            return value
    return None


def make_invites(
    engine: Conversation, bot_username: str, valid_days: int, municipality: str | None = None
) -> list[tuple[str, str, str]]:
    """(name, municipality, link) for every rostered person without a Telegram chat."""
    now = engine.clock()
    links: list[tuple[str, str, str]] = []
    with engine.db.transaction() as session:
        for person in people.not_on(session, PLATFORM, municipality):
            people.drop_unused_invite_codes(session, person.id, PLATFORM)
            code = people.new_invite_code(session, person, PLATFORM, now, valid_days)
            links.append(
                (
                    person.name,
                    person.municipality or "",
                    f"https://t.me/{bot_username}?start={code}",
                )
            )
    return links


async def ask_username(token: str, base_url: str) -> str:
    """The bot's @username, asked from Telegram (getMe)."""
    from telegram import Bot

    async with Bot(token, base_url=base_url) as bot:
        return bot.username
