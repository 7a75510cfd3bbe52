"""Watching it: `beholde doctor` against the fake platforms, `/healthz` per platform,
`/metrics` in Prometheus format from a running service, secrets masked in JSON logs, and the
service's import budget."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from typer.testing import CliRunner

from bot import logging_json
from bot.cli import app
from bot.conversation import Conversation
from bot.ports import OutgoingMessage
from bot.serve import Service, run_service
from bot.settings import Settings
from storage import outbox
from storage.db import script_heads
from tests.fakes.local import free_port
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.test_outbox import FlakyTransport
from tests.waiting import eventually

runner = CliRunner()


@pytest.fixture
async def platforms():
    telegram, slack = FakeTelegram(), FakeSlack()
    await telegram.start()
    await slack.start()
    yield telegram, slack
    await telegram.stop()
    await slack.stop()


def doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runner.invoke(app, ["doctor"])


async def test_doctor_checks_each_token_with_its_platform_and_never_prints_it(
    platforms, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram, slack = platforms
    assert runner.invoke(app, ["db", "upgrade"], env={
        "BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "XDG_DATA_HOME": str(tmp_path)
    }).exit_code == 0  # fmt: skip
    settings = {
        "BEHOLDE_LANGUAGE": "en",
        "BEHOLDE_TELEGRAM_TOKEN": telegram.token,
        "BEHOLDE_TELEGRAM_API_URL": telegram.base_url,
        "BEHOLDE_TELEGRAM_STEERING_CHAT": "-1001234567890",
        "BEHOLDE_SLACK_BOT_TOKEN": slack.token,
        "BEHOLDE_SLACK_API_URL": slack.base_url,
        "BEHOLDE_SLACK_STEERING_CHANNEL": "#general",
    }
    result = await asyncio.to_thread(doctor, tmp_path, monkeypatch, **settings)
    lines = result.output.splitlines()
    assert lines[:3] == [
        "OK     settings: the settings can be read",
        f"OK     database: the database answers (sqlite:///{tmp_path / 'd.db'})",
        f"OK     schema: the schema is up to date ({','.join(sorted(script_heads() or ()))})",
    ]
    assert "OK     telegram: Telegram accepts the token (bot @beholde_test_bot)" in lines
    assert "OK     slack: Slack accepts the token (workspace beholde test)" in lines
    assert "OK     steering telegram: the steering group is reached at -1001234567890" in lines
    assert any(line.startswith("FAIL   steering slack: “#general” is not") for line in lines)
    assert result.exit_code == 1 and lines[-1] == "1 check(s) failed; see the lines above."
    # A token Telegram rejects: one line naming the setting; the token is never printed.
    wrong = "123456789:AAE-this-token-is-not-the-fakes-token"
    result = await asyncio.to_thread(
        doctor, tmp_path, monkeypatch, BEHOLDE_TELEGRAM_TOKEN=wrong, BEHOLDE_LANGUAGE="nn"
    )
    assert (
        "FEIL   telegram: plattforma avviste BEHOLDE_TELEGRAM_TOKEN (HTTP 401); "
        "lag eit nytt token og set det inn" in result.output.splitlines()
    )
    assert wrong not in result.output and wrong.split(":")[1] not in result.output
    assert telegram.token not in result.output
    result = await asyncio.to_thread(
        doctor, tmp_path, monkeypatch, BEHOLDE_SLACK_BOT_TOKEN="xoxb-revoked-token-0123"
    )
    assert "plattforma avviste BEHOLDE_SLACK_BOT_TOKEN (invalid_auth)" in result.output
    assert "xoxb-revoked-token-0123" not in result.output


async def serving(engine: Conversation, transports: dict) -> tuple[Service, asyncio.Task, int]:
    port = free_port()
    settings = Settings(_env_file=None, database_url=engine.db.url, scheduler=False)  # type: ignore[call-arg]
    service = Service(settings, engine)
    service.transports.update(transports)
    task = asyncio.create_task(run_service(service, "127.0.0.1", port))
    await eventually(lambda: listening(port), what="the service's port")
    return service, task, port


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.1):
            return True
    except OSError:
        return False


async def test_healthz_names_each_platform_and_metrics_count_what_was_sent(
    engine: Conversation,
) -> None:
    transport = FlakyTransport()
    service, task, port = await serving(engine, {"test": transport})
    try:
        now = engine.clock()  # the service's clock
        with engine.db.transaction() as session:
            for i in range(3):
                outbox.enqueue(
                    session, dedupe_key=f"m{i}", platform="test", chat_id=f"c{i}", kind="pulse",
                    payload=OutgoingMessage("Hei").to_payload(), not_before=now, now=now,
                )  # fmt: skip
            outbox.enqueue(
                session, dedupe_key="later", platform="test", chat_id="c9", kind="pulse",
                payload=OutgoingMessage("Seinare").to_payload(),
                not_before=now + dt.timedelta(days=1), now=now,
            )  # fmt: skip

        def sent() -> bool:
            with engine.db.transaction() as session:
                return outbox.counts(session).get("sent") == 3

        await eventually(sent, what="three sent and marked")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                body = await response.json()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=b"x") as response:
                assert response.status == 404  # Slack is not configured here
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                after = await response.text()
        assert body["ok"] is True and body["database"] is True
        assert body["platforms"]["test"] == {"configured": True, "healthy": True}
        assert body["platforms"]["telegram"] == {"configured": False}
        assert 'beholde_sends_total{outcome="sent",platform="test"}' in metrics
        assert 'beholde_outbox_pending{platform="test"} 1.0' in metrics, metrics
        assert "beholde_rounds_open 0.0" in metrics
        assert 'beholde_inbound_requests_total{outcome="refused",platform="slack"}' in after
    finally:
        service.stopping.set()
        await task


async def test_healthz_is_not_ok_when_no_platform_is_configured(engine: Conversation) -> None:
    service, task, port = await serving(engine, {})
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 503
            body = await response.json()
        assert body["ok"] is False and body["database"] is True
        assert not any(p["configured"] for p in body["platforms"].values())
    finally:
        service.stopping.set()
        await task


def test_json_log_lines_mask_every_secret_even_in_tracebacks() -> None:
    token = "123456789:AAE-secret-part-of-the-token-xyz"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        log_format="json",
        telegram_token=token,
        database_url="postgresql+psycopg://beholde:db-password-123@db/beholde",
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging_json.apply(settings)
        log = logging.getLogger("beholde.test")
        log.warning("rejected %s", token)
        try:
            raise ValueError(f"The token `{token}` was rejected; db-password-123")
        except ValueError:
            log.exception("start failed")
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert [line["message"] for line in lines] == ["rejected ***", "start failed"]
    assert "ValueError: The token `***` was rejected; ***" in lines[1]["exception"]
    text = stream.getvalue()
    assert token not in text and token.split(":")[1] not in text and "db-password" not in text


def test_the_service_path_imports_no_pandas_matplotlib_or_platform_libraries() -> None:
    code = (
        "import sys, bot.serve, bot.outbox, bot.scheduler, bot.metrics, bot.doctor, bot.backup,"
        " bot.summaries, bot.digest, bot.dashboard.web;"
        "print(sorted(m for m in ('pandas', 'matplotlib', 'numpy', 'slack_bolt', 'telegram')"
        " if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


async def test_old_inbound_claims_are_pruned_for_every_platform(engine: Conversation) -> None:
    from sqlalchemy import select

    from storage.models import InboundEvent

    now = engine.clock()  # the service's clock
    with engine.db.transaction() as session:
        for platform in ("telegram", "slack", "teams"):
            session.add(
                InboundEvent(
                    platform=platform, event_key="old", received_at=now - dt.timedelta(days=3)
                )
            )
            session.add(InboundEvent(platform=platform, event_key="new", received_at=now))
    service, task, _port = await serving(engine, {"test": FlakyTransport()})
    try:

        def claims() -> list[tuple[str, str]]:
            with engine.db.transaction() as session:
                rows = session.execute(select(InboundEvent.platform, InboundEvent.event_key))
                return sorted((platform, key) for platform, key in rows)

        await eventually(lambda: len(claims()) == 3, what="the old claims pruned")
        assert claims() == [("slack", "new"), ("teams", "new"), ("telegram", "new")]
    finally:
        service.stopping.set()
        await task


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_polled_telegram_answers_are_counted_and_timed_in_metrics(
    engine: Conversation,
) -> None:
    """Long polling has no HTTP request of ours to count: each polled update is counted as
    an inbound request, and each press is timed through the one inbound path."""
    from tests.conftest import add_person

    fake = FakeTelegram()
    await fake.start()
    add_person(engine, "5005", platform="telegram")
    engine.open_round()
    port = free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=engine.db.url, scheduler=False,
        telegram_token=fake.token, telegram_api_url=fake.base_url,
    )  # fmt: skip
    service = Service(settings, engine)
    task = asyncio.create_task(run_service(service, "127.0.0.1", port))
    answer = ("beholde_answer_seconds_count", (("platform", "telegram"),))
    polled = ("beholde_inbound_requests_total", (("outcome", "ok"), ("platform", "telegram")))
    try:
        await eventually(lambda: fake.with_button("5005") is not None, what="the first question")
        async with aiohttp.ClientSession() as http:

            async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    return samples(await response.text())

            before = await scrape()
            pressed: set[object] = set()
            for _ in range(2):  # two presses, each on the newest question

                def newest() -> dict[str, Any] | None:
                    message = fake.with_button("5005")
                    fresh = message is not None and message["message_id"] not in pressed
                    return message if fresh else None

                await eventually(newest, what="a question not yet pressed")
                message = newest()
                assert message is not None
                pressed.add(message["message_id"])
                fake.press("5005", fake_label(message), message["message_id"])
            fake.say("5005", "/hjelp")  # a command: counted as a request, not timed

            async def counted() -> bool:
                return (await scrape()).get(polled, 0) - before.get(polled, 0) >= 3

            await eventually(counted, what="three polled updates counted")
            after = await scrape()
        assert after.get(polled, 0) - before.get(polled, 0) == 3
        assert after[answer] - before.get(answer, 0) == 2
        assert after[("beholde_answer_seconds_sum", (("platform", "telegram"),))] > 0
    finally:
        service.stopping.set()
        await task
        await fake.stop()


def fake_label(message: dict[str, object]) -> str:
    from tests.telegram_support import labels

    shown = labels(message)  # type: ignore[arg-type]
    numbers = [label for label in shown if label.isdigit()]
    return numbers[-1] if numbers else shown[0]


async def test_doctor_gets_a_teams_token_from_entra_and_names_what_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MSAL asks the fake Entra ID (through the intercepting HTTPS proxy) for a token with the
    configured app id, secret and tenant, as the Teams transport will."""
    from tests.fakes.teams_connector import APP_ID, APP_PASSWORD, TENANT, FakeTeams
    from tests.fakes.teams_harness import point_sdk_at
    from tests.fakes.teams_tls import InterceptingProxy

    fake = FakeTeams()
    await fake.start()
    proxy = InterceptingProxy(fake.port)
    await proxy.start()
    point_sdk_at(fake, proxy, monkeypatch)
    env = {
        "BEHOLDE_TEAMS_APP_ID": APP_ID,
        "BEHOLDE_TEAMS_APP_PASSWORD": APP_PASSWORD,
        "BEHOLDE_TEAMS_TENANT_ID": TENANT,
        "BEHOLDE_LANGUAGE": "nb",
    }
    try:
        good = await asyncio.to_thread(doctor, tmp_path, monkeypatch, **env)
        assert f"OK     teams: Microsoft Entra ID gir appen et token (tenant {TENANT})" in (
            good.output.splitlines()
        ), good.output
        assert fake.tokens_issued == 1
        wrong = "feil-hemmelighet-4711"
        env |= {"BEHOLDE_TEAMS_APP_PASSWORD": wrong, "BEHOLDE_LANGUAGE": "nn"}
        bad = await asyncio.to_thread(doctor, tmp_path, monkeypatch, **env)
        line = next(x for x in bad.output.splitlines() if x.startswith("FEIL   teams:"))
        assert "avviste appen (invalid_client AADSTS7000215)" in line
        assert "sjekk BEHOLDE_TEAMS_APP_ID, BEHOLDE_TEAMS_APP_PASSWORD" in line
        assert wrong not in bad.output and APP_PASSWORD not in bad.output + good.output
        assert bad.exit_code == 1 and fake.tokens_issued == 1
        env |= {"BEHOLDE_TEAMS_APP_PASSWORD": APP_PASSWORD, "BEHOLDE_LANGUAGE": "en"}
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
        monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
        down = await asyncio.to_thread(doctor, tmp_path, monkeypatch, **env)
        assert any(
            x.startswith("FAIL   teams: cannot reach the platform")
            and "BEHOLDE_TEAMS_TENANT_ID" in x
            for x in down.output.splitlines()
        ), down.output
    finally:
        await proxy.stop()
        await fake.stop()


def test_doctor_counts_a_teams_steering_conversation_as_a_steering_group() -> None:
    from bot.doctor import check_steering

    def lines(**values: str) -> list[str]:
        settings = Settings(_env_file=None, database_url="sqlite://", **values)  # type: ignore[call-arg]
        return [c.line("en") for c in check_steering(settings)]

    channel = "19:abc123@thread.tacv2"
    assert lines(teams_steering_conversation=channel) == [
        f"OK     steering teams: the steering group is reached at {channel}"
    ]
    odd = lines(teams_steering_conversation="General")
    assert odd[0].startswith("NOTE   steering teams: “General” does not look like a Teams")
    assert lines()[0].startswith("NOTE   steering: no steering group configured")
