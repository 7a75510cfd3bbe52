"""Calls to the Bot Connector through the Agents SDK's connector client, paced and classified.

The SDK does not retry. Every call goes through beholde's pacer with Teams' limits (per
conversation 7/1 s, 8/2 s, 60/30 s, 1,800/hour; about 50 requests/s per app and tenant) and
every failure becomes a `SendError` the outbox understands: 429 with its Retry-After, 412,
500, 502, 503, 504 and dropped connections as "try again" (the outbox waits with jittered
exponential backoff), 403 (the app was removed or the bot blocked) and 404 as permanent.

Tokens come from MSAL client credentials (the SDK's `MsalAuth`), cached by MSAL until they
expire; the secret is never logged.

The SDK logs every refused call at ERROR, with the conversation id in the line. For the
statuses beholde retries that is noise (a 429 in a fan-out is normal), so `QuietRetries`
drops those lines from the SDK's logger; beholde says it itself: each one at DEBUG, and a
WARNING with counts at most once a minute. Everything else the SDK logs passes, and a
message that fails for good is logged as an error by the outbox.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity, ChannelAccount
from microsoft_agents.hosting.core import AccessTokenProviderBase
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot.pacing import Pacer
from bot.ports import SendError

log = logging.getLogger(__name__)

PER_CONVERSATION = [(7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0)]
# The tenant's 50/s in full: the pacer dates each call by when it came back, so a call it lets
# go arrives at least a period after the call whose place it takes (no margin is needed for
# arrival jitter; bench/teams_fanout.py: no over-limit 429 at 50/s). A quarter-second window
# keeps the calls spread, not in bursts of 50 that slow every answer.
PER_TENANT = [(50, 1.0), (13, 0.25)]
RETRYABLE = frozenset({401, 412, 429, 500, 502, 503, 504})  # 401: token renewed, try again
PERMANENT_REASONS = {
    403: "teams 403: the app was removed or the bot is blocked",
    404: "teams 404: the conversation no longer exists",
}
SCOPE = f"{AuthenticationConstants.AGENTS_SDK_SCOPE}/.default"
TIMEOUT = aiohttp.ClientTimeout(total=30)
TOKEN_REUSE = 300.0  # seconds; MSAL's tokens live about an hour
SDK_CONNECTOR = "microsoft_agents.hosting.core.connector"
SDK_LOGGER = "microsoft_agents.hosting.core.connector.client.connector_client"
SDK_REFUSED = "Error accessing '%s': %s"  # the SDK's line for a refused call
SUMMARY_EVERY = 60.0  # seconds between WARNINGs that count the retried refusals

T = TypeVar("T")


def teams_pacer() -> Pacer:
    return Pacer(per_chat=PER_CONVERSATION, global_=PER_TENANT)


class QuietRetries(logging.Filter):
    """Drops the SDK's ERROR line for a call refused with a status beholde retries, and for
    the member lookup's 404 (someone the directory does not know: beholde answers them as a
    stranger, so it is no error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg != SDK_REFUSED or len(args) != 2:
            return True
        lookup_miss = args[1] == 404 and "/members/" in str(args[0])
        return not (args[1] in RETRYABLE or lookup_miss)


def quiet_sdk_retries() -> None:
    """Install `QuietRetries` on the SDK's connector logger (once per process).

    The connector's INFO lines name the conversation of every call; at WARNING (unless
    someone chose a level for it) only the refusals remain, and of those the ones beholde
    does not retry: a 403 or 404 still shows.
    """
    connector = logging.getLogger(SDK_CONNECTOR)
    if connector.level == logging.NOTSET:
        connector.setLevel(logging.WARNING)
    logger = logging.getLogger(SDK_LOGGER)
    if not any(isinstance(f, QuietRetries) for f in logger.filters):
        logger.addFilter(QuietRetries())


class RetryNotices:
    """Counts the refusals that will be retried and says so at most once a minute."""

    def __init__(self, every: float = SUMMARY_EVERY, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self.clock = clock
        self.counts: collections.Counter[int] = collections.Counter()
        self.since: float | None = None  # when the counted period began
        self.said_at: float | None = None

    def refused(self, status: int) -> None:
        log.debug("teams answered %s; the message is retried", status)
        now = self.clock()
        if self.since is None:
            self.since = now
        self.counts[status] += 1
        if self.said_at is None or now - self.said_at >= self.every:
            self.flush()

    def flush(self) -> None:
        """The WARNING with what was counted since the last one (nothing if nothing was)."""
        if not self.counts or self.since is None:
            return
        now = self.clock()
        counted = ", ".join(f"{n} × {status}" for status, n in sorted(self.counts.items()))
        log.warning(
            "teams refused %s calls in %.0f s (%s); beholde retries them",
            sum(self.counts.values()),
            now - self.since,
            counted,
        )
        self.counts.clear()
        self.since, self.said_at = None, now


class TeamsSender:
    """One connector client per service URL, sharing MSAL's token and one pacer."""

    def __init__(self, tokens: AccessTokenProviderBase, pacer: Pacer | None = None) -> None:
        self.tokens = tokens
        self.pacer = pacer or teams_pacer()
        self.clients: dict[str, ConnectorClient] = {}
        self._cached: tuple[str, float] | None = None
        self.notices = RetryNotices()
        quiet_sdk_retries()

    async def warm_up(self) -> None:
        """Get the first token at start, in a thread of its own.

        The SDK sets MSAL up (an HTTPS round trip for the tenant's OpenID configuration) on
        the event loop the first time a token is needed; doing it here keeps that off the
        loop, and a wrong secret or tenant shows at start, not at the first message.
        """
        await asyncio.to_thread(asyncio.run, self._token())

    async def _token(self) -> str:
        """MSAL's token, asked again every few minutes (MSAL renews it before it expires);
        in between, sends skip MSAL's thread hop and cache search."""
        now = time.monotonic()
        if self._cached is None or now - self._cached[1] > TOKEN_REUSE:
            token = await self.tokens.get_access_token(
                AuthenticationConstants.AGENTS_SDK_SCOPE, [SCOPE]
            )
            self._cached = (token, now)
        return self._cached[0]

    async def close(self) -> None:
        self.notices.flush()
        clients, self.clients = self.clients, {}
        for client in clients.values():
            await client.close()

    async def send(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        """Post an activity to a conversation; returns its activity id."""
        body = Activity.model_validate(activity)

        async def call(client: ConnectorClient) -> str:
            result = await client.conversations.send_to_conversation(conversation_id, body)
            return str(result.id or "")

        return await self._call(service_url, conversation_id, call)

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        """Replace a sent activity (a card now showing the chosen answer)."""
        body = Activity.model_validate({**activity, "id": activity_id})

        async def call(client: ConnectorClient) -> None:
            await client.conversations.update_activity(conversation_id, activity_id, body)

        await self._call(service_url, conversation_id, call)

    async def member(
        self, service_url: str, conversation_id: str, member_id: str
    ) -> ChannelAccount:
        """One member of a conversation, with `email`/`userPrincipalName` on Teams."""

        async def call(client: ConnectorClient) -> ChannelAccount:
            return await client.conversations.get_conversation_member(conversation_id, member_id)

        return await self._call(service_url, conversation_id, call)

    async def _call(
        self,
        service_url: str,
        conversation_id: str,
        operation: Callable[[ConnectorClient], Awaitable[T]],
    ) -> T:
        client = await self._client(service_url)
        try:
            async with self.pacer.slot(conversation_id):
                return await operation(client)
        except aiohttp.ClientResponseError as error:
            if error.status == 401:
                self._cached = None  # ask MSAL again next time
            raise self._classify(conversation_id, error) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendError(f"teams connection failed: {type(error).__name__}") from None

    def _classify(self, conversation_id: str, error: aiohttp.ClientResponseError) -> SendError:
        status = error.status
        if status in RETRYABLE:
            self.notices.refused(status)
        if status == 429:
            retry_after = retry_after_seconds(error.headers)
            self.pacer.back_off(conversation_id, retry_after)
            return SendError("teams 429: too many requests", retry_after=retry_after)
        if status in RETRYABLE:
            return SendError(f"teams {status}: try again")
        reason = PERMANENT_REASONS.get(status, f"teams {status}: refused")
        return SendError(reason, permanent=True)

    async def _client(self, service_url: str) -> ConnectorClient:
        """The service URL's client with a current token (MSAL answers from its cache)."""
        token = await self._token()
        client = self.clients.get(service_url)
        if client is None:
            base = service_url if service_url.endswith("/") else service_url + "/"
            session = aiohttp.ClientSession(base_url=base, timeout=TIMEOUT)
            client = ConnectorClient(base, token, session=session)
            self.clients[service_url] = client
        client.client.headers["Authorization"] = f"Bearer {token}"
        return client


def retry_after_seconds(headers: Any) -> float:
    """Retry-After in seconds (Teams sends seconds); 1 s when missing or unreadable."""
    raw = (headers or {}).get("Retry-After") if headers is not None else None
    try:
        return max(0.0, min(float(raw), 3600.0)) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
