"""Hostile Slack requests through real HTTP to `beholde serve`'s Slack endpoint.

Malformed or badly signed requests must get a 4xx and change nothing at all (not even a
delivery claim); well-formed requests with hostile content get 200, a polite answer from
the bot (a Slack call carrying text), and change nothing but the delivery's claim.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.conversation import Conversation
from tests.fakes import slack_client
from tests.fakes.slack_api import FakeSlack
from tests.hostile.conftest import Stage
from tests.hostile.support import CLAIMS, HUGE, MARKER, Judge, Seen, ids
from tests.slack_harness import Harness, running, slack_person
from tests.test_hostile_endpoints import SLACK_CASES, TIMESTAMPS, post_raw

SURFACE = "slack requests"
TEXT_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.open")


# One fake Slack and one running endpoint per module and database (see conftest.Stage).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running_slack(engine: Conversation) -> AsyncIterator[Harness]:
    async with FakeSlack() as fake:
        slack_person(engine, fake, "UKARI")
        fake.add_user("ukjent@andre.test", "UNOBODY")  # in the workspace, not on the roster
        engine.open_round()
        async with running(engine, fake) as harness:
            await harness.deliver()  # Kari's first question is on Slack, with its buttons
            yield harness


@pytest.fixture
def slack(running_slack: Harness, stage: Stage) -> Harness:
    stage.ready("slack")
    return running_slack


def said(slack: Harness, since: int, seen: Seen) -> None:
    """Report the texts the bot sent to Slack since call number `since`."""
    for call in slack.fake.calls[since:]:
        if call.method in TEXT_METHODS:
            params: dict[str, Any] = call.params
            seen.reply(str(params.get("text") or ""), json.dumps(params.get("blocks") or ""))


@pytest.mark.parametrize(
    ("name", "body", "content_type", "status"), SLACK_CASES, ids=ids(SLACK_CASES)
)
async def test_malformed_signed_requests(
    slack: Harness, judge: Judge, name: str, body: bytes, content_type: str, status: int
) -> None:
    with judge.watch(slack.engine.db, SURFACE) as seen:
        seen.status(await post_raw(slack, body, content_type))
        await slack.settle()
        assert seen.statuses == [status]


@pytest.mark.parametrize("timestamp", TIMESTAMPS)
async def test_timestamps_that_are_not_recent_numbers(
    slack: Harness, judge: Judge, timestamp: str
) -> None:
    body = slack_client.action_body("UKARI", "DUKARI", "1.000001", f"tok:{MARKER}").encode()
    with judge.watch(slack.engine.db, SURFACE) as seen:
        seen.status(await post_raw(slack, body, timestamp=timestamp))
        await slack.settle()
        assert seen.statuses == [401]


def _press_body() -> str:
    return slack_client.action_body("UKARI", "DUKARI", "1.000001", "x:3")


UNSIGNED: list[tuple[str, dict[str, str]]] = [
    ("no signature headers", {}),
    ("signature of another body", slack_client.signed_headers("other=1")),
    ("signed with another secret", slack_client.signed_headers(_press_body(), secret="x" * 32)),
    (
        "signature not hex",
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": f"v0={MARKER}"},
    ),
    (
        "signature version v1",
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v1=" + "0" * 64},
    ),
    (
        "timestamp an hour old",
        slack_client.signed_headers(_press_body(), timestamp=int(time.time()) - 3600),
    ),
    (
        "timestamp an hour ahead",
        slack_client.signed_headers(_press_body(), timestamp=int(time.time()) + 3600),
    ),
]


@pytest.mark.parametrize(("name", "headers"), UNSIGNED, ids=ids(UNSIGNED))
async def test_unsigned_or_wrongly_signed_requests_get_401(
    slack: Harness, judge: Judge, name: str, headers: dict[str, str]
) -> None:
    body = _press_body()
    if name.startswith("timestamp"):  # re-sign this very body at the odd time
        stamp = int(headers["X-Slack-Request-Timestamp"])
        headers = slack_client.signed_headers(body, timestamp=stamp)
    with judge.watch(slack.engine.db, SURFACE) as seen:
        async with slack.http.post(slack.url, data=body.encode(), headers=headers) as response:
            await response.read()
            seen.status(response.status)
        await slack.settle()
        assert seen.statuses == [401]


BUTTON_VALUES = [
    ("huge token and index", f"{HUGE}:{HUGE}"),
    ("huge index", f"tok:{HUGE}"),
    ("huge token", f"{HUGE}:3"),
    ("long token", "x" * 40 + ":" + HUGE),
    ("no token", ":" + HUGE),
    ("only a number", HUGE),
    ("marker", MARKER),
    ("empty", ""),
    ("NUL", "\x00"),
    ("5,000 characters", "y" * 5000),
]


@pytest.mark.parametrize(("name", "value"), BUTTON_VALUES, ids=ids(BUTTON_VALUES))
async def test_hostile_button_values_are_answered_politely(
    slack: Harness, judge: Judge, name: str, value: str
) -> None:
    ts, _buttons = slack.buttons("UKARI")[-1]
    since = len(slack.fake.calls)
    body = slack_client.action_body("UKARI", "DUKARI", ts, value, f"beholde_choice:{HUGE}")
    with judge.watch(slack.engine.db, SURFACE, may_change=[CLAIMS]) as seen:
        seen.status(await slack.post(body))
        await slack.settle()
        said(slack, since, seen)
        assert seen.statuses == [200]


COMMANDS = [
    ("employee: runde start", "UKARI", "runde start"),
    ("employee: samling ny", "UKARI", 'samling ny "X" 12.03.2027 09:00 Bodø'),
    ("employee: oppgave ny", "UKARI", 'oppgave ny "X" frist 05.03.2027 alle'),
    ("employee: påminn", "UKARI", "påminn samling 1"),
    ("employee: styring", "UKARI", "styring"),
    ("employee: unknown", "UKARI", f"ukjent {MARKER}"),
    ("employee: huge slett", "UKARI", f"slett {HUGE}"),
    ("employee: 5,000 characters", "UKARI", "x" * 5000),
    ("stranger: puls", "UNOBODY", "puls"),
    ("stranger: runde start", "UNOBODY", "runde start"),
    ("stranger: empty", "UNOBODY", ""),
    ("stranger: marker", "UNOBODY", MARKER),
]


@pytest.mark.parametrize(("name", "user", "text"), COMMANDS, ids=ids(COMMANDS))
async def test_slash_commands_nobody_may_run_here(
    slack: Harness, judge: Judge, name: str, user: str, text: str
) -> None:
    since = len(slack.fake.calls)
    may = [CLAIMS, "prompts"] if "slett" in text else [CLAIMS]  # /slett asks to confirm
    with judge.watch(slack.engine.db, SURFACE, may_change=may) as seen:
        body = slack_client.command_body(user, text)
        headers = slack_client.signed_headers(body)
        async with slack.http.post(slack.url, data=body.encode(), headers=headers) as response:
            seen.reply(await response.text())
            seen.status(response.status)
        await slack.settle()
        said(slack, since, seen)
        assert seen.statuses == [200]


MESSAGES = [
    ("stranger writes", "UNOBODY", f"hei {MARKER}"),
    ("stranger sends a formula", "UNOBODY", "=cmd|' /C calc'!A0"),
    ("employee writes at a button question", "UKARI", MARKER),
    ("employee sends mentions", "UKARI", "<!channel> <!everyone> <@U123>"),
    ("employee sends 10,000 characters", "UKARI", "z" * 10_000),
]


@pytest.mark.parametrize(("name", "user", "text"), MESSAGES, ids=ids(MESSAGES))
async def test_direct_messages_with_hostile_text(
    slack: Harness, judge: Judge, name: str, user: str, text: str
) -> None:
    since = len(slack.fake.calls)
    with judge.watch(slack.engine.db, SURFACE, may_change=[CLAIMS]) as seen:
        body = slack_client.dm_body(user, slack.fake.dm_channel(user), text)
        seen.status(await slack.post(body, json_body=True))
        await slack.settle()
        said(slack, since, seen)
        assert seen.statuses == [200]
