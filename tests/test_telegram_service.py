"""Telegram inside `beholde serve`: webhook secret, restart in the middle of a pulse, logs.

The webhook test runs the installer on a real Service and POSTs updates to its aiohttp
server; the serve test starts the `beholde serve` process against the fake Bot API.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bot.app import assemble, build
from bot.conversation import EngineConfig
from bot.invite import make_invites
from bot.serve import Service
from bot.settings import Settings
from bot.transports import telegram
from storage import people
from storage.models import Holding, PendingAnswer
from tests.conftest import OSLO
from tests.fakes.local import free_port
from tests.fakes.telegram_api import buttons
from tests.telegram_support import (
    answer_everything,
    labels,
    roundtrip,
    settings_for,
    start_bot,
    until,
)
from tests.telegram_support import fake as fake  # the fixture

SECRET = "s3cret-webhook-token_0123456789"


def register(engine, name: str) -> str:
    now = engine.clock()
    with engine.db.transaction() as session:
        people.create_person(session, name, now, municipality="bodo", profession="sykepleier")
    links = make_invites(engine, "beholde_test_bot", 30)
    return dict((n, link.rsplit("=", 1)[1]) for n, _m, link in links)[name]


async def test_webhook_needs_the_secret(engine, fake):
    code = register(engine, "Kari")
    settings = settings_for(
        fake,
        telegram_webhook_url="https://beholde.example.kommune.no/telegram/hook",
        telegram_webhook_secret=SECRET,
    )
    service = Service(settings, engine)
    assert telegram.install(service) is True
    assert "telegram" in service.transports
    for hook in service.on_start:
        await hook()
    runner = web.AppRunner(service.web, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    try:
        assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET
        assert fake.webhook["url"].endswith("/telegram/hook")
        assert {c["command"] for c in fake.commands[""]} >= {"puls", "stopp", "hjelp", "sprak"}
        assert {c["command"] for c in fake.commands["en"]} >= {"pulse", "stop", "language"}
        nynorsk = {c["command"]: c["description"] for c in fake.commands["nn"]}
        assert {"puls", "stopp", "sprak"} <= set(nynorsk)  # the menu a nynorsk client shows
        assert nynorsk != {c["command"]: c["description"] for c in fake.commands[""]}
        start = fake.message_update("9001", f"/start {code}")
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {telegram.SECRET_HEADER: "wrong"}, {telegram.SECRET_HEADER: ""}):
                async with http.post(url, json=start, headers=headers) as response:
                    assert response.status == 403
            # A fixed wait on purpose: nothing may be sent in it (the refused updates).
            await asyncio.sleep(0.2)
            assert not fake.ok_calls("sendMessage")
            with engine.db.transaction() as session:
                assert people.by_address(session, "telegram", "9001") is None

            async with http.post(
                url, data="not json", headers={telegram.SECRET_HEADER: SECRET}
            ) as response:
                assert response.status == 400
            async with http.post(url, json=start, headers={telegram.SECRET_HEADER: SECRET}) as r:
                assert r.status == 200
            await until(lambda: fake.ok_calls("sendMessage", "9001"))
            # Telegram delivering the same update again changes nothing.
            async with http.post(url, json=start, headers={telegram.SECRET_HEADER: SECRET}) as r:
                assert r.status == 200
            await asyncio.sleep(0.3)  # on purpose: the retried update must change nothing in it
        with engine.db.transaction() as session:
            assert people.by_address(session, "telegram", "9001").name == "Kari"
        assert not any("brukt" in m.get("text", "") for m in fake.chat("9001"))
        assert not [c for c in fake.calls if c.method == "getUpdates"]
    finally:
        for hook in reversed(service.on_stop):
            await hook()
        await runner.cleanup()


async def test_restart_in_the_middle_of_a_pulse_resumes_where_it_stopped(
    engine, fake, survey, clock
):
    code = register(engine, "Kari")
    engine.open_round()
    chat = "9100"
    bot = await start_bot(fake, engine)
    await roundtrip(bot, lambda: fake.say(chat, f"/start {code}"))
    # Background questions, then two pulse answers, then the service goes down.
    while (message := fake.with_button(chat)) is not None and "Hopp over" in labels(message):
        await roundtrip(bot, lambda: fake.press(chat, "Hopp over"))
    for _ in range(2):
        shown = labels(fake.with_button(chat))
        await roundtrip(bot, lambda shown=shown: fake.press(chat, shown[0]))
    waiting = fake.with_button(chat)
    assert waiting is not None
    await bot.stop()
    with engine.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PendingAnswer)) == 2

    # A new process: a new engine and a new Application on the same database.
    engine2 = assemble(engine.db, survey, EngineConfig(k=5, tz=OSLO), clock)
    bot2 = await start_bot(fake, engine2)
    try:
        await roundtrip(bot2, lambda: fake.say(chat, "/puls"))
        again = fake.chat(chat)[-1]
        assert again["text"].split("\n")[0] == waiting["text"].split("\n")[0]  # same question
        # The button pressed before the restart still works, exactly once.
        shown = labels(waiting)
        await roundtrip(bot2, lambda: fake.press(chat, shown[-1], waiting["message_id"]))
        with engine.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(PendingAnswer)) == 3
        presses = await answer_everything(bot2, fake, chat)
        assert presses >= 1
    finally:
        await bot2.stop()
    assert fake.chat(chat)[-1]["text"].startswith("Takk")
    with engine.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PendingAnswer)) == 0
        assert session.scalar(select(func.count()).select_from(Holding)) >= 4
    assert all(not buttons(m) for m in fake.chat(chat) if m is not again)


async def test_beholde_serve_runs_against_the_fake_and_never_logs_the_token(fake, tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    settings = Settings(_env_file=None, database_url=database)  # type: ignore[call-arg]
    engine = build(settings)
    code = register(engine, "Kari")
    engine.db.dispose()
    port = free_port()
    env = {
        **os.environ,
        "BEHOLDE_DATABASE_URL": database,
        "BEHOLDE_TELEGRAM_TOKEN": fake.token,
        "BEHOLDE_TELEGRAM_API_URL": fake.base_url,
        "BEHOLDE_LOG_LEVEL": "DEBUG",
        "BEHOLDE_HTTP_PORT": str(port),
        "BEHOLDE_SCHEDULER": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await until(lambda: fake.arrived["getUpdates"] or process.poll() is not None, 30)
        assert process.poll() is None
        fake.say("9200", f"/start {code}")
        await until(lambda: fake.ok_calls("sendMessage", "9200"), 20)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert (await response.json())["transports"] == ["telegram"]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(process.communicate, timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    assert "telegram bot @beholde_test_bot started" in log
    assert fake.token not in log
    assert fake.token.split(":")[1] not in log
