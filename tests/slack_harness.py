"""A running beholde Slack endpoint against the fake Slack Web API, for the Slack tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.outbox import DeliveryStats, deliver_due
from bot.pacing import Pacer
from bot.serve import Service
from bot.settings import Settings
from bot.transports import slack
from storage import people
from storage.models import PendingAnswer, Person
from tests.conftest import BACKGROUND
from tests.fakes import slack_client
from tests.fakes.local import serve
from tests.fakes.slack_api import FakeSlack


@dataclass
class Harness:
    fake: FakeSlack
    service: Service
    bot: slack.SlackBot
    url: str
    http: aiohttp.ClientSession

    @property
    def engine(self) -> Conversation:
        return self.service.engine

    async def post(self, body: str, **kwargs: object) -> int:
        return await slack_client.post(self.http, self.url, body, **kwargs)  # type: ignore[arg-type]

    async def settle(self) -> None:
        await self.bot.drain()

    async def deliver(self) -> DeliveryStats:
        return await deliver_due(
            self.engine.db, self.service.transports, self.engine.clock(), "test"
        )

    async def press(self, user: str, value: str, ts: str = "1.000001", **kwargs: object) -> int:
        channel = self.fake.dm_channel(user)
        status = await self.post(slack_client.action_body(user, channel, ts, value), **kwargs)
        await self.settle()
        return status

    async def command(self, user: str, text: str) -> int:
        status = await self.post(slack_client.command_body(user, text))
        await self.settle()
        return status

    def buttons(self, user: str) -> list[tuple[str, list[dict[str, object]]]]:
        return slack_client.open_buttons(self.fake.messages, self.fake.dm_channel(user))

    def texts(self, user: str) -> list[str]:
        channel = self.fake.dm_channel(user)
        return [
            str(m.get("text"))
            for (ch, _), m in sorted(self.fake.messages.items(), key=lambda kv: kv[0][1])
            if ch == channel
        ]


def settings_for(engine: Conversation, fake: FakeSlack, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=engine.db.url,
        slack_bot_token=fake.token,
        slack_signing_secret=slack_client.SECRET,
        slack_api_url=fake.base_url,
        slack_steering_channel="CSTEERING",
        **extra,
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API for one test (import it as a fixture: `fake as fake`)."""
    async with FakeSlack() as api:
        yield api


@asynccontextmanager
async def running(engine: Conversation, fake: FakeSlack) -> AsyncIterator[Harness]:
    """`beholde serve`'s web app with the Slack installer, on a free local port."""
    service = Service(settings_for(engine, fake), engine)
    assert slack.install(service) is True
    runner, port = await serve(service.web)
    bot = service.web[slack.SLACK_BOT_KEY]
    # One person pressing fast would meet the 1 message/s per-channel pace after a burst of
    # three; the pace has its own tests (test_slack_sending.py), so these run unpaced.
    bot.sender.channels = Pacer()
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(fake, service, bot, f"http://127.0.0.1:{port}{slack.PATH}", http)
    finally:
        await bot.drain()
        await runner.cleanup()


def slack_person(
    engine: Conversation, fake: FakeSlack, user: str, onboarded: bool = True, **fields: object
) -> int:
    """A rostered person reachable on Slack as `user`."""
    now = engine.clock()
    email = f"{user.lower()}@kommune.test"
    fake.add_user(email, user)
    values: dict[str, object] = {**BACKGROUND, "email": email}
    values.update(fields)
    with engine.db.transaction() as session:
        person = people.create_person(session, f"Person {user}", now, key=email, **values)
        if onboarded:
            person.onboarded_at = now
        people.bind_address(session, person, slack.PLATFORM, user, now)
        return person.id


def pending_count(engine: Conversation) -> int:
    with engine.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(PendingAnswer)) or 0)


def person_status(engine: Conversation, person_id: int) -> Person:
    with engine.db.transaction() as session:
        person = session.get(Person, person_id)
        assert person is not None
        session.expunge(person)
        return person


def utc(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC)
