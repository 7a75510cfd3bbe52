"""Slack over HTTP: signed button presses, slash commands and DMs against the running endpoint.

The real slack-bolt AsyncApp behind `beholde serve`'s aiohttp app, the real slack_sdk client
talking to a fake Slack Web API on 127.0.0.1 — nothing of either library is mocked.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.i18n import t
from storage.models import Holding, InboundEvent, Invitation, Prompt, Response
from tests.fakes import slack_client
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Harness, pending_count, running, slack_person
from tests.slack_harness import fake as fake  # the fixture


@pytest.fixture
async def slack(engine: Conversation, fake: FakeSlack) -> AsyncIterator[Harness]:
    async with running(engine, fake) as harness:
        yield harness


def first_choice(buttons: list[dict[str, object]]) -> dict[str, object]:
    return next(b for b in buttons if str(b["action_id"]).startswith("beholde_choice"))


def count(engine: Conversation, model: type) -> int:
    with engine.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def answer_all(slack: Harness, user: str, limit: int = 30) -> int:
    """Press the first button of the newest open question until none is left."""
    presses = 0
    while slack.buttons(user) and presses < limit:
        ts, buttons = slack.buttons(user)[-1]
        assert await slack.press(user, str(first_choice(buttons)["value"]), ts) == 200
        presses += 1
    return presses


async def test_round_by_dm_full_pulse_by_signed_presses_stores_anonymous_answers(
    slack: Harness, engine: Conversation
) -> None:
    slack_person(engine, slack.fake, "UINGRID")
    engine.open_round()
    stats = await slack.deliver()
    assert stats.sent >= 2 and stats.failed == 0
    assert slack.fake.count("conversations.open") == 1  # cached for the next messages
    presses = await answer_all(slack, "UINGRID")
    assert presses >= 6
    texts = slack.texts("UINGRID")
    assert texts[-1].startswith(t("nb", "done").split("\n")[0][:20])
    # Every press updated its message to show the choice (buttons gone) ...
    assert slack.fake.count("chat.update") == presses
    assert not slack.buttons("UINGRID")
    # ... and the answers left the person: nothing pending, all in the anonymous tables.
    assert pending_count(engine) == 0
    assert count(engine, Holding) + count(engine, Response) == presses
    with engine.db.transaction() as session:
        assert session.scalar(select(Invitation.status)) == "finished"
    engine.close_round()
    assert count(engine, Response) == presses


async def test_forged_button_value_changes_nothing(slack: Harness, engine: Conversation) -> None:
    slack_person(engine, slack.fake, "UINGRID")
    slack_person(engine, slack.fake, "UOLA")
    engine.open_round()
    await slack.deliver()
    ts, buttons = slack.buttons("UOLA")[-1]
    olas_token = str(first_choice(buttons)["value"]).split(":")[0]
    for forged in ("deadbeefdeadbeef:6", f"{olas_token}:6", f"{olas_token}:99", "", "x" * 300):
        assert await slack.press("UINGRID", forged, ts) == 200
    assert await slack.press("UOLA", f"{olas_token}:99", ts) == 200  # own token, bad value
    assert pending_count(engine) == 0
    assert slack.fake.count("chat.update") == 0
    notices = [p["text"] for p in slack.fake.of("chat.postEphemeral")]
    assert len(notices) == 6
    assert t("nb", "stale_button") in notices and t("nb", "invalid_value") in notices


async def test_bad_signature_is_refused_and_nothing_happens(
    slack: Harness, engine: Conversation
) -> None:
    slack_person(engine, slack.fake, "UINGRID")
    engine.open_round()
    await slack.deliver()
    ts, buttons = slack.buttons("UINGRID")[-1]
    body = slack_client.action_body("UINGRID", "DUINGRID", ts, str(first_choice(buttons)["value"]))
    calls = len(slack.fake.calls)
    assert await slack.post(body, secret="not-the-secret") == 401
    tampered = body.replace("beholde_choice", "beholde_choicf")
    headers_for_original = slack_client.signed_headers(body)
    async with slack.http.post(slack.url, data=tampered, headers=headers_for_original) as resp:
        assert resp.status == 401
    async with slack.http.post(slack.url, data=body) as resp:  # no signature at all
        assert resp.status == 401
    await slack.settle()
    assert pending_count(engine) == 0
    assert count(engine, InboundEvent) == 0
    assert len(slack.fake.calls) == calls


async def test_replayed_old_request_is_refused(slack: Harness, engine: Conversation) -> None:
    slack_person(engine, slack.fake, "UINGRID")
    engine.open_round()
    await slack.deliver()
    ts, buttons = slack.buttons("UINGRID")[-1]
    body = slack_client.action_body("UINGRID", "DUINGRID", ts, str(first_choice(buttons)["value"]))
    old = int(time.time()) - 6 * 60  # correctly signed, but six minutes old
    assert await slack.post(body, timestamp=old) == 401
    await slack.settle()
    assert pending_count(engine) == 0
    assert slack.fake.count("chat.update") == 0


async def test_slack_retry_of_the_same_action_is_stored_once(
    slack: Harness, engine: Conversation
) -> None:
    slack_person(engine, slack.fake, "UINGRID")
    engine.open_round()
    await slack.deliver()
    ts, buttons = slack.buttons("UINGRID")[-1]
    body = slack_client.action_body("UINGRID", "DUINGRID", ts, str(first_choice(buttons)["value"]))
    assert await slack.post(body) == 200
    assert await slack.post(body, retry=1) == 200  # Slack's retry: the same delivery again
    assert await slack.post(body, retry=2) == 200
    await slack.settle()
    assert pending_count(engine) == 1
    assert slack.fake.count("chat.update") == 1
    assert slack.fake.count("chat.postEphemeral") == 0  # not even an "already answered"
    assert count(engine, InboundEvent) == 1


async def test_concurrent_duplicate_deliveries_store_once(
    slack: Harness, engine: Conversation
) -> None:
    import asyncio

    slack_person(engine, slack.fake, "UINGRID")
    engine.open_round()
    await slack.deliver()
    ts, buttons = slack.buttons("UINGRID")[-1]
    body = slack_client.action_body("UINGRID", "DUINGRID", ts, str(first_choice(buttons)["value"]))
    statuses = await asyncio.gather(*(slack.post(body, retry=i or None) for i in range(4)))
    await slack.settle()
    assert statuses == [200] * 4
    assert pending_count(engine) == 1
    assert slack.fake.count("chat.update") == 1


async def test_slash_commands(slack: Harness, engine: Conversation) -> None:
    slack_person(engine, slack.fake, "UINGRID")
    assert await slack.command("UINGRID", "hjelp") == 200
    assert slack.texts("UINGRID")[-1].startswith(t("nb", "help")[:30].replace("&", "&amp;"))
    assert await slack.command("UINGRID", "runde start") == 200  # leader only
    assert slack.texts("UINGRID")[-1] == t("nb", "not_allowed")
    assert await slack.command("UINGRID", "pause") == 200
    assert slack.texts("UINGRID")[-1] == t("nb", "paused")
    assert await slack.command("UINGRID", "") == 200  # bare /beholde shows help
    assert slack.texts("UINGRID")[-1].startswith(t("nb", "help")[:30].replace("&", "&amp;"))
    # Answers go to the DM even when the command was typed in a channel.
    assert {p["channel"] for p in slack.fake.of("chat.postMessage")} == {"DUINGRID"}


async def test_stranger_on_the_roster_is_matched_by_email_and_greeted(
    slack: Harness, engine: Conversation
) -> None:
    slack_person(engine, slack.fake, "UKNOWN")
    slack.fake.add_user("kari@kommune.test", "UKARI")
    from storage import people

    with engine.db.transaction() as session:
        people.create_person(session, "Kari Nordmann", engine.clock(), email="Kari@Kommune.test")
    assert await slack.command("UKARI", "puls") == 200
    assert slack.fake.count("users.info") == 1
    assert "Kari" in slack.texts("UKARI")[0]  # the greeting with the anonymity promise
    # Someone not on the roster gets the polite "ask your project leader" answer.
    slack.fake.add_user("someone@else.test", "USTRANGER")
    assert await slack.command("USTRANGER", "puls") == 200
    assert slack.texts("USTRANGER") == [t("nb", "not_registered")]


def plan_only_quit(engine: Conversation, user: str) -> None:
    """Give the person's invitation a pulse of just the quit question (then its follow-up)."""
    from storage import answers, people

    with engine.db.transaction() as session:
        person = people.by_address(session, "slack", user)
        round_ = answers.current_round(session)
        assert person is not None and round_ is not None
        engine.ensure_invitation(session, round_, person).plan = ["quit"]


async def reach_free_text(slack: Harness, user: str) -> str:
    """Open the pulse and answer "yes" to quit: returns the ts of the free-text question."""
    assert await slack.command(user, "puls") == 200
    ts, buttons = slack.buttons(user)[-1]
    yes = next(b for b in buttons if str(b["value"]).endswith(":1"))
    await slack.press(user, str(yes["value"]), ts)
    ts, buttons = slack.buttons(user)[-1]
    assert buttons[0]["action_id"] == "beholde_text"  # "Skriv svar" opens the form
    assert [str(b["value"]).split(":")[1] for b in buttons[1:]] == ["skip"]
    return ts


async def say_no_to_quoting(slack: Harness, user: str) -> None:
    """Press "Nei" at "Kan vi sitere deg anonymt?", which follows every written comment."""
    ts, buttons = slack.buttons(user)[-1]
    no = next(b for b in buttons if str(b["value"]).endswith(":no"))
    await slack.press(user, str(no["value"]), ts)
    await slack.settle()


async def test_free_text_answer_by_form(slack: Harness, engine: Conversation) -> None:
    import json

    engine.open_round()
    slack_person(engine, slack.fake, "UINGRID")
    plan_only_quit(engine, "UINGRID")
    ts = await reach_free_text(slack, "UINGRID")
    body = slack_client.action_body("UINGRID", "DUINGRID", ts, "open", "beholde_text")
    assert await slack.post(body) == 200
    await slack.settle()
    view = slack.fake.of("views.open")[-1]["view"]
    assert view["callback_id"] == "beholde_text" and view["title"]["text"] == "Ditt svar"
    metadata = json.loads(view["private_metadata"])
    assert metadata["ts"] == ts and metadata["c"] == "DUINGRID"
    form = slack_client.form_body("UINGRID", "Mer tid til fagutvikling", metadata)
    assert await slack.post(form) == 200
    assert await slack.post(form, retry=1) == 200  # a repeated submission is ignored
    await slack.settle()
    await say_no_to_quoting(slack, "UINGRID")
    assert not slack.buttons("UINGRID")  # the question's buttons are gone
    assert pending_count(engine) == 0
    with engine.db.transaction() as session:
        texts = list(session.scalars(select(Holding.text).where(Holding.text.is_not(None))))
    assert texts == ["Mer tid til fagutvikling"]


async def test_free_text_answer_by_typing_in_the_dm(slack: Harness, engine: Conversation) -> None:
    engine.open_round()
    slack_person(engine, slack.fake, "UINGRID")
    plan_only_quit(engine, "UINGRID")
    await reach_free_text(slack, "UINGRID")
    body = slack_client.dm_body("UINGRID", "DUINGRID", "Bedre turnus")
    assert await slack.post(body, json_body=True) == 200
    assert await slack.post(body, json_body=True, retry=1) == 200
    await slack.settle()
    await say_no_to_quoting(slack, "UINGRID")
    assert pending_count(engine) == 0
    with engine.db.transaction() as session:
        texts = list(session.scalars(select(Holding.text).where(Holding.text.is_not(None))))
    assert texts == ["Bedre turnus"]
    assert t("nb", "text_saved") in slack.texts("UINGRID")


async def test_restart_mid_pulse_resumes(engine: Conversation, fake: FakeSlack) -> None:
    slack_person(engine, fake, "UINGRID")
    engine.open_round()
    async with running(engine, fake) as first:
        await first.deliver()
        for _ in range(2):
            ts, buttons = first.buttons("UINGRID")[-1]
            await first.press("UINGRID", str(first_choice(buttons)["value"]), ts)
        assert pending_count(engine) == 2
        ts_open, open_buttons = first.buttons("UINGRID")[-1]
    # A new process: a fresh AsyncApp, nothing kept in memory.
    async with running(engine, fake) as second:
        assert (
            await second.press("UINGRID", str(first_choice(open_buttons)["value"]), ts_open) == 200
        )
        assert pending_count(engine) == 3
        # /beholde puls after the restart continues where the person stopped.
        before = len(second.buttons("UINGRID"))
        assert await second.command("UINGRID", "puls") == 200
        assert len(second.buttons("UINGRID")) == before + 1
        assert await answer_all(second, "UINGRID") >= 1
    assert pending_count(engine) == 0
    with engine.db.transaction() as session:
        assert session.scalar(select(Invitation.status)) == "finished"
        assert session.scalar(select(func.count()).select_from(Prompt)) == 0


async def test_install_decides_from_settings(engine: Conversation, fake: FakeSlack) -> None:
    from bot.serve import Service
    from bot.transports import slack as slack_module
    from tests.slack_harness import settings_for

    off = settings_for(engine, fake).model_copy(update={"slack_bot_token": None})
    assert slack_module.install(Service(off, engine)) is False
    http_service = Service(settings_for(engine, fake), engine)
    assert slack_module.install(http_service) is True
    assert any(
        r.resource and r.resource.canonical == "/slack/events"
        for r in http_service.web.router.routes()
    )
    socket = settings_for(engine, fake, slack_app_token="xapp-test")
    socket_service = Service(socket, engine)
    assert slack_module.install(socket_service) is True
    assert not any(
        r.resource and r.resource.canonical == "/slack/events"
        for r in socket_service.web.router.routes()
    )
    assert len(socket_service.tasks) == 2  # the websocket connection and the claim pruning
    unsigned = settings_for(engine, fake).model_copy(update={"slack_signing_secret": None})
    with pytest.raises(SystemExit, match="BEHOLDE_SLACK_SIGNING_SECRET"):
        slack_module.install(Service(unsigned, engine))
