"""Hostile requests to Teams' `/api/messages`, through real HTTP and the SDK's JWT validator.

Bad tokens get 401 and garbage bodies a 4xx, both changing nothing at all; well-formed
activities with hostile content get a card or text back and change nothing but the claim.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.conversation import Conversation
from tests.fakes.teams_connector import TENANT, activity, rsa_key
from tests.fakes.teams_harness import Harness, running, teams_person
from tests.hostile.conftest import Stage
from tests.hostile.support import CLAIMS, HUGE, MARKER, Judge, Seen, ids

SURFACE = "teams requests"
KARI = "00000000-0000-4000-8000-00000000ka71"


# One fake Bot Connector and one running endpoint per module and database (conftest.Stage).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running_teams(engine: Conversation) -> AsyncIterator[Harness]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        async with running(engine, monkeypatch) as harness:
            teams_person(engine, harness.fake, KARI)
            engine.open_round()
            await harness.deliver()
            yield harness


@pytest.fixture
def teams(running_teams: Harness, stage: Stage) -> Harness:
    stage.ready("teams")
    return running_teams


async def post_bytes(h: Harness, body: bytes, token: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with h.http.post(h.url, data=body, headers=headers) as response:
        await response.read()
        return response.status


def said(h: Harness, since: dict[str, int], seen: Seen) -> None:
    for conversation, sent in h.fake.activities.items():
        for item in sent[since.get(conversation, 0) :]:
            seen.reply(json.dumps(item, ensure_ascii=False))


def counts(h: Harness) -> dict[str, int]:
    return {conversation: len(sent) for conversation, sent in h.fake.activities.items()}


TOKENS = ["bad signature", "expired", "wrong audience", "unknown key", "not a token", "none"]


def forged(h: Harness, case: str) -> str | None:
    signer, url, intruder = h.fake.signer, h.fake.base_url, rsa_key("intruder")
    return {
        "bad signature": lambda: signer.token(url, key=intruder, kid=signer.kid),
        "expired": lambda: signer.token(url, lifetime=60, issued_ago=3600),
        "wrong audience": lambda: signer.token(url, audience=str(uuid.uuid4())),
        "unknown key": lambda: signer.token(url, key=intruder, kid="not-in-the-jwks"),
        "not a token": lambda: "abc.def.ghi",
        "none": lambda: None,
    }[case]()


@pytest.mark.parametrize("case", TOKENS)
async def test_forged_tokens_get_401(teams: Harness, judge: Judge, case: str) -> None:
    body = json.dumps(activity(teams.fake, KARI, text="puls")).encode()
    with judge.watch(teams.engine.db, SURFACE) as seen:
        seen.status(await post_bytes(teams, body, forged(teams, case)))
        assert seen.statuses == [401]


GARBAGE: list[tuple[str, bytes]] = [
    ("not JSON", f"{{not json {MARKER}".encode()),
    ("binary", b"\xff\xfe\x00" + MARKER.encode()),
    ("[]", b"[]"),
    ("null", b"null"),
    ("a number", HUGE.encode()),
    ("a string", json.dumps(MARKER).encode()),
    ("{}", b"{}"),
]


@pytest.mark.parametrize(("name", "body"), GARBAGE, ids=ids(GARBAGE))
async def test_garbage_bodies_with_a_good_token_get_a_4xx(
    teams: Harness, judge: Judge, name: str, body: bytes
) -> None:
    with judge.watch(teams.engine.db, SURFACE) as seen:
        seen.status(await post_bytes(teams, body, teams.fake.signer.token(teams.fake.base_url)))
        assert seen.statuses and 400 <= seen.statuses[0] < 500


def _without(field: str) -> Any:
    def make(h: Harness) -> dict[str, Any]:
        body = activity(h.fake, KARI, text="puls")
        del body[field]
        return body

    return make


def _with(**fields: Any) -> Any:
    def make(h: Harness) -> dict[str, Any]:
        body = activity(h.fake, KARI, text="puls")
        body.update(fields)
        return body

    return make


MALFORMED = [
    ("no type", _without("type"), 400),
    ("no from", _without("from"), 400),
    ("no conversation", _without("conversation"), 400),
    ("from a string", _with(**{"from": MARKER}), 400),
    ("conversation a list", _with(conversation=[MARKER]), 400),
    ("type a number", _with(type=int(HUGE)), 400),
]


@pytest.mark.parametrize(("name", "make", "status"), MALFORMED, ids=ids(MALFORMED))
async def test_malformed_activities_get_a_4xx(
    teams: Harness, judge: Judge, name: str, make: Any, status: int
) -> None:
    body = json.dumps(make(teams)).encode()
    with judge.watch(teams.engine.db, SURFACE) as seen:
        seen.status(await post_bytes(teams, body, teams.fake.signer.token(teams.fake.base_url)))
        assert seen.statuses and 400 <= seen.statuses[0] < 500


def _press(data: Any) -> Any:
    def make(h: Harness) -> dict[str, Any]:
        card_id, _buttons = h.open_card(KARI)
        return activity(h.fake, KARI, value=data, reply_to=card_id)

    return make


def _say(text: str, aad: str = KARI) -> Any:
    return lambda h: activity(h.fake, aad, text=text)


HOSTILE = [
    ("made-up button data", _press({"b": "x:3"})),
    ("huge button data", _press({"b": f"{HUGE}:{HUGE}"})),
    ("button data a number", _press({"b": int(HUGE)})),
    ("button data a list", _press({"b": [MARKER]})),
    ("value a string", _press(MARKER)),
    ("value without b", _press({"x": MARKER})),
    ("formula text", _say("=cmd|' /C calc'!A0")),
    ("mention markup", _say(f"<at>beholde</at> <at>{MARKER}")),
    ("5,000 characters", _say("x" * 5000)),
    ("employee runs runde start", _say("runde start")),
    ("employee runs samling ny", _say('samling ny "X" 12.03.2027 09:00 Bodø')),
    ("huge påminn", _say(f"påminn samling {HUGE}")),
    ("lone surrogate", _say("\ud83d")),
    ("stranger writes", _say("puls", "00000000-0000-4000-8000-0000000n0b0d")),
    (
        "employee's command in a group chat",  # answered in her personal chat
        lambda h: activity(h.fake, KARI, text="runde start", conversation_type="groupChat"),
    ),
]


@pytest.mark.parametrize(("name", "make"), HOSTILE, ids=ids(HOSTILE))
async def test_hostile_activities_are_answered_and_change_nothing(
    teams: Harness, judge: Judge, name: str, make: Any
) -> None:
    body = make(teams)
    since = counts(teams)
    with judge.watch(teams.engine.db, SURFACE, may_change=[CLAIMS]) as seen:
        status = await post_bytes(
            teams, json.dumps(body).encode(), teams.fake.signer.token(teams.fake.base_url)
        )
        seen.status(status)
        said(teams, since, seen)
        assert status in (200, 202)


OUTSIDERS = [
    ("another tenant", lambda h: activity(h.fake, KARI, text="puls", tenant=str(uuid.uuid4()))),
    (
        "installation removed by a stranger",
        lambda h: activity(h.fake, str(uuid.uuid4()), "installationUpdate", action="remove"),
    ),
    ("unknown activity type", lambda h: activity(h.fake, KARI, "bogusType")),
]


@pytest.mark.parametrize(("name", "make"), OUTSIDERS, ids=ids(OUTSIDERS))
async def test_activities_from_outside_change_nothing(
    teams: Harness, judge: Judge, name: str, make: Any
) -> None:
    """Not for this bot to answer (another tenant, a group chat, a stranger removing the
    app, an activity type it does not handle): no reply needed, and nothing may change."""
    body = make(teams)
    assert body["conversation"]["tenantId"] == TENANT or name == "another tenant"
    with judge.watch(teams.engine.db, SURFACE, clear_reply=False) as seen:
        status = await post_bytes(
            teams, json.dumps(body).encode(), teams.fake.signer.token(teams.fake.base_url)
        )
        seen.status(status)
        assert status < 500
