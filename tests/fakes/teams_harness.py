"""A running beholde Teams endpoint against the fake Bot Connector, for the Teams tests.

The SDK runs unmodified. Two addresses it has built in are pointed at the fake:

* MSAL's authority stays `https://login.microsoftonline.com/<tenant>`; its HTTPS requests go
  through `teams_tls.InterceptingProxy` (`HTTPS_PROXY`, `REQUESTS_CA_BUNDLE` for this test).
* The validator's key lookup for the Bot Framework issuer is a `PyJWKClient` on the fake's
  `/keys`, placed in the validator's own client cache for this test. Every token is still
  decoded, signature-checked, time-checked and audience-checked by `JwtTokenValidator`.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from jwt import PyJWKClient
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    _JwkClientCacheEntry,
)

from bot.conversation import Conversation
from bot.outbox import DeliveryStats, deliver_due
from bot.pacing import Pacer
from bot.serve import Service
from bot.settings import Settings
from bot.transports import teams
from bot.transports.teams_cards import buttons_of, card_text
from storage import people
from storage import teams as store
from tests.conftest import BACKGROUND
from tests.fakes.local import serve
from tests.fakes.teams_connector import (
    APP_ID,
    APP_PASSWORD,
    STEERING,
    TENANT,
    FakeTeams,
    activity,
    personal_conversation,
)
from tests.fakes.teams_tls import InterceptingProxy, certificates


@dataclass
class Harness:
    fake: FakeTeams
    proxy: InterceptingProxy
    service: Service
    bot: teams.TeamsBot
    url: str
    http: aiohttp.ClientSession

    @property
    def engine(self) -> Conversation:
        return self.service.engine

    async def post(self, body: dict[str, Any], token: str | None = "valid") -> int:
        """POST an activity as Teams would; `token` "valid" signs a good one."""
        headers = {}
        if token == "valid":
            token = self.fake.signer.token(self.fake.base_url)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.post(self.url, json=body, headers=headers) as response:
            await response.read()
            return response.status

    async def say(self, aad: str, text: str) -> int:
        return await self.post(activity(self.fake, aad, text=text))

    async def press(self, aad: str, data: str, card_id: str) -> int:
        return await self.post(activity(self.fake, aad, value={"b": data}, reply_to=card_id))

    async def install(self, aad: str) -> int:
        return await self.post(activity(self.fake, aad, "installationUpdate", action="add"))

    async def deliver(self) -> DeliveryStats:
        return await deliver_due(
            self.engine.db, self.service.transports, self.engine.clock(), "test"
        )

    def sent(self, aad: str) -> list[dict[str, Any]]:
        return self.fake.sent(personal_conversation(aad))

    def texts(self, aad: str) -> list[str]:
        return [card_text(a) for a in self.sent(aad)]

    def open_card(self, aad: str) -> tuple[str, list[tuple[str, str]]]:
        """The newest activity with buttons: (its id, its buttons)."""
        for sent in reversed(self.sent(aad)):
            found = buttons_of(sent)
            if found:
                return str(sent["id"]), found
        raise AssertionError("no card with buttons was sent")


def point_sdk_at(
    fake: FakeTeams, proxy: InterceptingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MSAL through the intercepting proxy; the validator's keys from the fake's JWKS."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("https_proxy", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates().ca_file))
    cache = JwtTokenValidator._jwk_client_manager._cache
    monkeypatch.setitem(
        cache,
        AuthenticationConstants.PUBLIC_ABS_JWKS_URL,
        _JwkClientCacheEntry(PyJWKClient(fake.jwks_url), threading.Lock()),
    )


def settings_for(engine: Conversation, fake: FakeTeams, **extra: object) -> Settings:
    values: dict[str, Any] = {
        "database_url": engine.db.url,
        "teams_app_id": APP_ID,
        "teams_app_password": APP_PASSWORD,
        "teams_tenant_id": TENANT,
        "teams_steering_conversation": STEERING,
        "teams_service_url": fake.base_url,
        "scheduler": False,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def unpaced() -> Pacer:
    """Pacing has its own tests; the flow tests press faster than a person would."""
    return Pacer(per_chat=[(10_000, 1.0)], global_=[(10_000, 1.0)])


@asynccontextmanager
async def running(
    engine: Conversation,
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeTeams | None = None,
    pacer: Pacer | None = None,
) -> AsyncIterator[Harness]:
    """`beholde serve`'s web app with the Teams installer, on a free local port."""
    owned = fake is None
    fake = fake or FakeTeams()
    if owned:
        await fake.start()
    proxy = InterceptingProxy(fake.port)
    await proxy.start()
    point_sdk_at(fake, proxy, monkeypatch)
    service = Service(settings_for(engine, fake), engine)
    assert teams.install(service) is True
    bot = service.web[teams.TEAMS_BOT_KEY]
    bot.sender.pacer = pacer or unpaced()
    for hook in service.on_start:
        await hook()
    runner, port = await serve(service.web)
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(fake, proxy, service, bot, f"http://127.0.0.1:{port}{teams.PATH}", http)
    finally:
        for hook in service.on_stop:
            await hook()
        await runner.cleanup()
        await proxy.stop()
        if owned:
            await fake.stop()


def teams_person(
    engine: Conversation,
    fake: FakeTeams,
    aad: str,
    *,
    bound: bool = True,
    onboarded: bool = True,
    **fields: object,
) -> int:
    """A rostered person with a Teams account (bound to it unless told otherwise)."""
    now = engine.clock()
    email = f"{aad[:8]}@kommune.test"
    fake.add_user(aad, email.upper() if not bound else email)
    values: dict[str, object] = {**BACKGROUND, "email": email}
    values.update(fields)
    with engine.db.transaction() as session:
        person = people.create_person(session, f"Person {aad[:4]}", now, key=email, **values)
        if onboarded:
            person.onboarded_at = now
        if bound:
            people.bind_address(session, person, teams.PLATFORM, aad, now)
            store.remember(
                session,
                person.id,
                aad,
                personal_conversation(aad),
                fake.base_url,
                TENANT,
                now,
            )
        return person.id
