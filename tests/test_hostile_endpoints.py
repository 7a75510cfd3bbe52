"""Hostile input on the Slack and Telegram endpoints (issue 15), through real HTTP.

Each case is a request a broken or hostile sender could make. Every one must get a 4xx (401
for a timestamp that is not a number), change nothing in the database, call no platform API,
and leave one warning that does not repeat the payload — never a 500 or a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.serve import Service
from bot.transports import telegram
from storage.models import InboundEvent, OutboxMessage, PendingAnswer, Person, Prompt
from tests.fakes import slack_client
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.slack_harness import Harness, running, slack_person
from tests.slack_harness import fake as fake  # the fixture
from tests.telegram_support import count_handled, handled, running_webhook, until

MARKER = "HEMMELIG-SVAR-4711"  # put in payloads: it must never show up in a log line
TABLES = (InboundEvent, OutboxMessage, PendingAnswer, Person, Prompt)
HUGE = "99999999999999999999"


def snapshot(engine: Conversation) -> dict[str, int]:
    with engine.db.transaction() as session:
        return {
            model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in TABLES
        }


def form(payload: Any) -> bytes:
    return urlencode(
        {"payload": payload if isinstance(payload, str) else json.dumps(payload)}
    ).encode()


def actions(**fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "UKARI"},
        "trigger_id": "1.t",
        "actions": [{"action_id": "beholde_choice:0", "value": f"tok:{MARKER}"}],
    }
    payload.update(fields)
    return payload


# (name, body, content type, expected status)
SLACK_CASES: list[tuple[str, bytes, str, int]] = [
    ("payload not JSON", form(f"{{not json {MARKER}"), "", 400),
    ("payload []", form("[]"), "", 400),
    ("payload null", form("null"), "", 400),
    ("payload a string", form(json.dumps(MARKER)), "", 400),
    ("payload a number", form(HUGE), "", 400),
    ("JSON body not JSON", f"{{{MARKER}".encode(), "application/json", 400),
    ("JSON body []", b"[]", "application/json", 400),
    ("JSON body null", b"null", "application/json", 400),
    ("JSON body a number", HUGE.encode(), "application/json", 400),
    ("binary garbage", b"\xff\xfe\x00\x81" + MARKER.encode() + b"\xc3\x28", "", 400),
    ("binary garbage as JSON", b"\x80\x81{\xff}", "application/json", 400),
    ("empty JSON object", b"{}", "application/json", 400),
    (
        "unknown type",
        json.dumps({"type": "shortcut", "x": MARKER}).encode(),
        "application/json",
        400,
    ),
    ("block_actions without actions", form(actions(actions=[])), "", 400),
    (
        "block_actions with actions missing",
        form({"type": "block_actions", "user": {"id": "U"}}),
        "",
        400,
    ),
    ("block_actions with actions a string", form(actions(actions=MARKER)), "", 400),
    ("block_actions with actions [1]", form(actions(actions=[1])), "", 400),
    (
        "block_actions with an action lacking its id",
        form(actions(actions=[{"value": MARKER}])),
        "",
        400,
    ),
    ("block_actions without a user", form(actions(user=None)), "", 400),
    ("block_actions with user a string", form(actions(user="UKARI")), "", 400),
    (
        "view_submission for an unknown view",
        form(
            {
                "type": "view_submission",
                "user": {"id": "UKARI"},
                "view": {"callback_id": "evil", "state": MARKER},
            }
        ),
        "",
        400,
    ),
    (
        "view_submission without a view",
        form({"type": "view_submission", "user": {"id": "UKARI"}}),
        "",
        400,
    ),
    (
        "view_submission with view a list",
        form({"type": "view_submission", "user": {"id": "UKARI"}, "view": [MARKER]}),
        "",
        400,
    ),
    (
        "event_callback without an event",
        json.dumps({"type": "event_callback", "event": MARKER}).encode(),
        "application/json",
        400,
    ),
    (
        "event_callback with broken authorizations",
        json.dumps(
            {
                "type": "event_callback",
                "event": {"type": "message", "text": MARKER},
                "authorizations": MARKER,
            }
        ).encode(),
        "application/json",
        400,
    ),
    (
        "slash command without a user",
        urlencode({"command": "/beholde", "text": MARKER}).encode(),
        "",
        400,
    ),
]

TIMESTAMPS = ["abc", "", "1e9", "-5", "١٢٣٤", "12.5", " 1700000000", HUGE, "0"]


@pytest.fixture
async def slack(engine: Conversation, fake: FakeSlack) -> AsyncIterator[Harness]:
    slack_person(engine, fake, "UKARI")
    engine.open_round()
    async with running(engine, fake) as harness:
        yield harness


async def post_raw(
    slack: Harness, body: bytes, content_type: str = "", timestamp: str | None = None
) -> int:
    ts = str(int(time.time())) if timestamp is None else timestamp
    mac = hmac.new(slack_client.SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
    signature = f"v0={mac.hexdigest()}"  # as Slack signs: over the raw bytes
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        "Content-Type": content_type or "application/x-www-form-urlencoded",
    }
    async with slack.http.post(slack.url, data=body, headers=headers) as response:
        await response.read()
        return response.status


def assert_one_clean_warning(caplog: pytest.LogCaptureFixture, logger: str) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    ours = [r for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]
    assert len(ours) == 1, [r.getMessage() for r in ours]
    assert all(MARKER not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("name", "body", "content_type", "status"), SLACK_CASES, ids=[c[0] for c in SLACK_CASES]
)
async def test_malformed_signed_slack_requests_get_a_4xx_and_change_nothing(
    slack: Harness,
    engine: Conversation,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    before = snapshot(engine)
    calls = len(slack.fake.calls)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert await post_raw(slack, body, content_type) == status
        await slack.settle()
    assert snapshot(engine) == before
    assert len(slack.fake.calls) == calls
    assert_one_clean_warning(caplog, "bot.transports.slack")


@pytest.mark.parametrize("timestamp", TIMESTAMPS)
async def test_a_timestamp_that_is_not_a_recent_number_gets_401(
    slack: Harness, engine: Conversation, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    ts = "1.000001"
    body = slack_client.action_body("UKARI", "DUKARI", ts, f"tok:{MARKER}").encode()
    before = snapshot(engine)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert await post_raw(slack, body, timestamp=timestamp) == 401
        await slack.settle()
    assert snapshot(engine) == before
    assert_one_clean_warning(caplog, "bot.transports.slack")


@pytest.mark.parametrize(
    "value",
    [f"{HUGE}:{HUGE}", f"tok:{HUGE}", f"{HUGE}:3", "x" * 40 + ":" + HUGE, ":" + HUGE, HUGE],
)
async def test_out_of_range_ids_in_button_data_never_raise(
    slack: Harness, engine: Conversation, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    await slack.deliver()
    ts, buttons = slack.buttons("UKARI")[-1]
    token = str(buttons[0]["value"]).split(":")[0]
    before = snapshot(engine)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for data in (value, f"{token}:{HUGE}", f"{token}:-{HUGE}"):
            body = slack_client.action_body("UKARI", "DUKARI", ts, data, f"beholde_choice:{HUGE}")
            assert await slack.post(body) == 200
        await slack.settle()
    after = snapshot(engine)
    assert after["PendingAnswer"] == before["PendingAnswer"]  # nothing stored
    assert after["Prompt"] == before["Prompt"] and after["Person"] == before["Person"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    notices = [p["text"] for p in slack.fake.of("chat.postEphemeral")]
    assert len(notices) == 3  # each press got a polite answer


# --------------------------------------------------------------------------- Telegram webhook

SECRET = "s3cret-webhook-token_0123456789"


def tg_message(chat: Any = 5005, text: str = MARKER, **extra: Any) -> dict[str, Any]:
    message = {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}, "text": text}
    message.update(extra)
    return message


TELEGRAM_CASES: list[tuple[str, bytes]] = [
    ("not JSON", f"not json {MARKER}".encode()),
    ("binary garbage", b"\xff\xfe\x00" + MARKER.encode()),
    ("[]", b"[]"),
    ("null", b"null"),
    ("a number", HUGE.encode()),
    ("a string", json.dumps(MARKER).encode()),
    ("{}", b"{}"),
    ("update_id a string", json.dumps({"update_id": MARKER}).encode()),
    (
        "update_id out of range",
        json.dumps({"update_id": int(HUGE), "message": tg_message()}).encode(),
    ),
    ("update_id negative", json.dumps({"update_id": -1, "message": tg_message()}).encode()),
    ("message a string", json.dumps({"update_id": 1, "message": MARKER}).encode()),
    (
        "chat a string",
        json.dumps(
            {"update_id": 2, "message": tg_message(chat=MARKER) | {"chat": MARKER}}
        ).encode(),
    ),
    (
        "date out of range",
        json.dumps({"update_id": 3, "message": tg_message(date=int(HUGE))}).encode(),
    ),
    (
        "callback_query incomplete",
        json.dumps({"update_id": 4, "callback_query": {"id": MARKER}}).encode(),
    ),
]


@pytest.fixture
async def webhook(engine: Conversation) -> AsyncIterator[tuple[str, FakeTelegram, Service]]:
    async with running_webhook(engine, SECRET) as running:
        yield running


@pytest.mark.parametrize(("name", "body"), TELEGRAM_CASES, ids=[c[0] for c in TELEGRAM_CASES])
async def test_telegram_webhook_garbage_gets_400_and_changes_nothing(
    webhook: tuple[str, FakeTelegram, Service],
    engine: Conversation,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: bytes,
) -> None:
    url, fake, _service = webhook
    before = snapshot(engine)
    calls = len(fake.calls)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        async with aiohttp.ClientSession() as http:
            headers = {telegram.SECRET_HEADER: SECRET, "Content-Type": "application/json"}
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 400
    assert snapshot(engine) == before
    assert len(fake.calls) == calls
    assert_one_clean_warning(caplog, "bot.transports.telegram")


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 11, "message": tg_message(chat=int(HUGE), text=f"/start {HUGE}")},
        {"update_id": 12, "message": tg_message(text=f"/slett {HUGE}")},
        {"update_id": 13, "message": tg_message(text="/" + "x" * 5000)},
        {"update_id": 14, "message": tg_message(chat=-5, text="/puls")},  # not a private chat
    ],
    ids=["huge chat id", "huge argument", "huge command", "group chat"],
)
async def test_odd_but_well_formed_telegram_updates_are_handled_without_an_exception(
    webhook: tuple[str, FakeTelegram, Service],
    engine: Conversation,
    caplog: pytest.LogCaptureFixture,
    update: dict[str, Any],
) -> None:
    url, _fake, service = webhook
    application = service.transports["telegram"].application  # type: ignore[attr-defined]
    count_handled(application)
    before = snapshot(engine)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        async with aiohttp.ClientSession() as http:
            headers = {telegram.SECRET_HEADER: SECRET}
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 200
        await until(lambda: handled(application) >= 1)
    after = snapshot(engine)
    assert {k: v for k, v in after.items() if k != "InboundEvent"} == {
        k: v for k, v in before.items() if k != "InboundEvent"
    }
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
