"""A fake Bot Connector and Entra token service on loopback, with a JWT signer of its own.

What beholde's Teams transport talks to, over real HTTP:

* the Bot Connector's conversations API (`/v3/conversations/{id}/activities`, updates,
  `/members/{id}`), which records every activity and checks the bearer token MSAL got;
* the Entra endpoints MSAL uses for client credentials (OpenID configuration and
  `/oauth2/v2.0/token`), reached through `teams_tls.InterceptingProxy`;
* a JWKS (`/keys`) with the signer's public key, where the SDK's validator fetches keys.

Faults are planned per call (`fail_next`: a status with an optional Retry-After, or a
dropped connection) or drawn at random (`throttle_share` of 429s), and a tenant limit
(`tenant_limit` requests per second, sliding window) answers 429 when exceeded, as Teams does.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import functools
import itertools
import json
import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.local import Started, serve

APP_ID = "11111111-2222-3333-4444-555555555555"
APP_PASSWORD = "test-client-secret-not-real"
TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
ISSUER = "https://api.botframework.com"
STEERING = "19:steering@thread.tacv2"


@dataclass
class Fault:
    status: int | None  # None: drop the connection without an answer
    retry_after: float | None = None


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name and test run (making keys is the slow part of a fake)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Signer:
    """Signs Bot Framework tokens with a key this fake owns (and publishes at /keys)."""

    def __init__(self) -> None:
        self.key = rsa_key("signer")
        self.kid = secrets.token_hex(8)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def token(
        self,
        service_url: str,
        *,
        audience: str = APP_ID,
        lifetime: float = 3600,
        issued_ago: float = 0,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        now = int(time.time() - issued_ago)
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 5,
            "iat": now,
            "exp": int(now + lifetime),
        }
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@dataclass
class FakeTeams(Started):
    """The Bot Connector, the token service and the JWKS in one aiohttp app."""

    signer: Signer = field(default_factory=Signer)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # by member id (29:…)
    activities: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: collections.defaultdict(list)
    )
    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    faults: collections.deque[Fault] = field(default_factory=collections.deque)
    blocked: set[str] = field(default_factory=set)  # conversations that answer 403
    throttle_share: float = 0.0
    tenant_limit: int | None = None
    requests: int = 0
    throttled: int = 0
    over_limit: int = 0  # of `throttled`: refused for the tenant limit (not injected)
    dropped: int = 0
    tokens_issued: int = 0
    bad_tokens: int = 0
    base_url: str = ""
    port: int = 0
    arrival_log: list[float] = field(default_factory=list)  # every request's arrival time
    _arrivals: collections.deque[float] = field(default_factory=collections.deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _access_token: str = field(default_factory=lambda: "fake-access-" + secrets.token_hex(8))
    _runner: web.AppRunner | None = None
    random: random.Random = field(default_factory=lambda: random.Random(11))

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/keys", self._keys)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/common/discovery/instance", self._instances)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        self._runner, self.port = await serve(app)
        self.base_url = f"http://127.0.0.1:{self.port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}keys"

    # ------------------------------------------------------------------ test helpers

    def add_user(self, aad: str, email: str, name: str = "") -> dict[str, Any]:
        member = {
            "id": f"29:{aad}",
            "name": name or email.split("@")[0],
            "aadObjectId": aad,
            "email": email,
            "userPrincipalName": email,
            "tenantId": TENANT,
            "userRole": "user",
        }
        self.members[member["id"]] = member
        return member

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def sent(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self.activities.get(conversation_id, []))

    # ------------------------------------------------------------------ Entra and JWKS

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response(self.signer.jwks())

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        base = f"https://login.microsoftonline.com/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
            }
        )

    async def _instances(self, request: web.Request) -> web.Response:
        """Entra's instance discovery, which MSAL asks after a refused token request."""
        host = "login.microsoftonline.com"
        return web.json_response(
            {
                "tenant_discovery_endpoint": f"https://{host}/common/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": "login.windows.net",
                              "aliases": [host, "login.windows.net"]}],
            }
        )  # fmt: skip

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            request.match_info["tenant"] != TENANT
            or form.get("client_id") != APP_ID
            or form.get("client_secret") != APP_PASSWORD
            or form.get("grant_type") != "client_credentials"
        ):
            return web.json_response(
                {"error": "invalid_client", "error_description": "AADSTS7000215"}, status=401
            )
        self.tokens_issued += 1
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": self._access_token}
        )

    # ------------------------------------------------------------------ Bot Connector

    def _check(self, request: web.Request) -> web.Response | None:
        """The answer to give instead of the normal one (auth, tenant limit, faults)."""
        self.requests += 1
        if request.headers.get("Authorization") != f"Bearer {self._access_token}":
            self.bad_tokens += 1
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        now = time.monotonic()
        self.arrival_log.append(now)
        if self.tenant_limit is not None:
            while self._arrivals and self._arrivals[0] <= now - 1.0:
                self._arrivals.popleft()
            if len(self._arrivals) >= self.tenant_limit:
                self.throttled += 1
                self.over_limit += 1
                return _throttled(1.0)
            self._arrivals.append(now)
        if self.faults:
            fault = self.faults.popleft()
            if fault.status is None:
                self.dropped += 1
                raise _Drop()
            if fault.status == 429:
                self.throttled += 1
                return _throttled(fault.retry_after or 1.0)
            return web.json_response({"error": {"code": "Fault"}}, status=fault.status)
        if self.throttle_share and self.random.random() < self.throttle_share:
            self.throttled += 1
            return _throttled(1.0)
        return None

    async def _refused(self, request: web.Request) -> web.StreamResponse | None:
        """The fault or refusal this request meets (a dropped connection, a 401, a 429)."""
        try:
            return self._check(request)
        except _Drop:
            return await _drop(request)

    async def _send(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._refused(request)) is not None:
            return refused
        if request.match_info["cid"] in self.blocked:
            return web.json_response({"error": {"code": "BotDisabledByAdmin"}}, status=403)
        body = await request.json()
        activity_id = f"{next(self._ids)}"
        body["id"] = activity_id
        self.activities[request.match_info["cid"]].append(body)
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._refused(request)) is not None:
            return refused
        body = await request.json()
        cid, aid = request.match_info["cid"], request.match_info["aid"]
        self.updates.append((cid, aid, body))
        for sent in self.activities.get(cid, []):
            if sent["id"] == aid:
                sent.clear()
                sent.update({**body, "id": aid})
        return web.json_response({"id": aid})

    async def _member(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._refused(request)) is not None:
            return refused
        member = self.members.get(request.match_info["mid"])
        if member is None:
            missing = {"error": {"code": "MemberNotFoundInConversation"}}
            return web.json_response(missing, status=404)
        return web.json_response(member)


class _Drop(Exception):
    """Close the connection without answering."""


async def _drop(request: web.Request) -> web.StreamResponse:
    transport = request.transport
    if transport is not None:
        transport.abort()
    await asyncio.sleep(0)
    return web.Response(status=500)


def _throttled(retry_after: float) -> web.Response:
    return web.json_response(
        {"error": {"code": "TooManyRequests"}},
        status=429,
        headers={"Retry-After": f"{retry_after:g}"},
    )


# ---------------------------------------------------------------------- what Teams posts


def activity(
    fake: FakeTeams,
    aad: str,
    kind: str = "message",
    *,
    text: str | None = None,
    value: dict[str, Any] | None = None,
    reply_to: str | None = None,
    action: str | None = None,
    conversation_type: str = "personal",
    conversation_id: str | None = None,
    tenant: str = TENANT,
    members_added: list[str] | None = None,
) -> dict[str, Any]:
    """An activity shaped as Teams sends it to a bot."""
    body: dict[str, Any] = {
        "type": kind,
        "id": f"f:{uuid.uuid4()}",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "serviceUrl": fake.base_url,
        "channelId": "msteams",
        "from": {"id": f"29:{aad}", "name": "Test User", "aadObjectId": aad},
        "conversation": {
            "conversationType": conversation_type,
            "tenantId": tenant,
            "id": conversation_id or personal_conversation(aad),
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "beholde"},
        "channelData": {"tenant": {"id": tenant}},
        "locale": "nb-NO",
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    if reply_to is not None:
        body["replyToId"] = reply_to
    if action is not None:
        body["action"] = action
    if members_added is not None:
        body["membersAdded"] = [{"id": m} for m in members_added]
    return body


def personal_conversation(aad: str) -> str:
    return "a:" + base64.urlsafe_b64encode(aad.encode()).decode().rstrip("=")
