"""Every inbound Teams activity's JWT goes through the SDK's real validator: forgeries get 401.

The keys come from the fake's JWKS (the validator's own key client, pointed there for the
test); signature, expiry and audience are checked by `JwtTokenValidator` itself.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from bot.conversation import Conversation
from storage.models import InboundEvent, PendingAnswer
from tests.fakes.teams_connector import activity, rsa_key
from tests.fakes.teams_harness import running, teams_person


def count(engine: Conversation, model: type) -> int:
    with engine.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_forged_expired_and_misaddressed_tokens_get_401_and_change_nothing(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        aad = str(uuid.uuid4())
        teams_person(engine, h.fake, aad)
        engine.open_round()
        await h.deliver()
        card_id, buttons = h.open_card(aad)
        press = activity(h.fake, aad, value={"b": buttons[0][1]}, reply_to=card_id)
        sent_before = len(h.sent(aad))
        signer, url = h.fake.signer, h.fake.base_url
        intruder = rsa_key("intruder")
        forged = {
            "bad signature": signer.token(url, key=intruder, kid=signer.kid),
            "expired": signer.token(url, lifetime=60, issued_ago=3600),
            "wrong audience": signer.token(url, audience=str(uuid.uuid4())),
            "unknown key": signer.token(url, key=intruder, kid="not-in-the-jwks"),
            "not a token": "abc.def.ghi",
        }
        for case, token in forged.items():
            assert await h.post(press, token=token) == 401, case
        assert await h.post(press, token=None) == 401  # no Authorization header at all
        assert count(engine, PendingAnswer) == 0
        assert count(engine, InboundEvent) == 0
        assert len(h.sent(aad)) == sent_before and not h.fake.updates
        # The same press with a good token is taken: the refusals were about the token.
        assert await h.post(press) == 202
        assert count(engine, PendingAnswer) == 1
