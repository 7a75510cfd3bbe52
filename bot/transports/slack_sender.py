"""Every Slack Web API call goes through here: rate limits, retries, and clear failures.

Slack limits each method by tier per workspace (Tier 3 ≈ 50 calls a minute, Tier 4 ≈ 100)
and `chat.postMessage` to about one message a second per channel, with short bursts. We keep
below those budgets with `bot.pacing` (one Pacer keyed by channel, one keyed by method), so
that a round opening for hundreds of people does not earn a stream of `ratelimited` answers.
When Slack still says 429, slack_sdk's own rate-limit retry handler waits the `Retry-After`
it gives — if that is short; a long wait is handed back to the outbox as
`SendError(retry_after=...)`, so one slow chat never blocks the others, and the method waits
that long for every caller (Slack limits per method). 500/503 are retried with backoff by
slack_sdk's server-error handler.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.pacing import Pacer
from bot.ports import SendError

log = logging.getLogger(__name__)

# Calls a minute per tier (https://api.slack.com/apis/rate-limits).
TIER_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
METHOD_TIER = {
    "conversations.open": 3,
    "users.lookupByEmail": 3,
    "users.info": 4,
    "chat.update": 3,
    "chat.postEphemeral": 4,
    "views.open": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
CHANNEL_RATE = 1.0  # chat.postMessage per second and channel
CHANNEL_BURST = 3
MAX_INLINE_WAIT = 5  # Retry-After up to this many seconds is waited out in place

# Errors that mean this person cannot be reached through this chat: stop trying them.
PERSON_PERMANENT = {
    "channel_not_found",
    "user_not_found",
    "users_not_found",
    "cannot_dm_bot",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "messages_tab_disabled",
}
# Errors that mean the app itself is misconfigured: retried (someone may fix the token),
# never blamed on the person.
APP_PROBLEMS = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "missing_scope",
    "no_permission",
    "not_allowed_token_type",
}


class BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, but only for short waits; long ones go back to the outbox."""

    def __init__(self, max_retry_count: int = 2, max_wait: float = MAX_INLINE_WAIT) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _retry_after(response.headers) <= self.max_wait


def _retry_after(headers: Any) -> float:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


class ProportionalJitter(Jitter):
    """±50 % of the backoff (slack_sdk's default adds up to a whole second to every wait)."""

    def recalculate(self, duration: float) -> float:
        return duration * random.uniform(0.5, 1.5)


def retry_handlers(
    max_inline_wait: float = MAX_INLINE_WAIT, server_backoff: float = 0.5
) -> list[AsyncRetryHandler]:
    """Connection resets, 429 with a short Retry-After, and 500/503 with backoff."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        BoundedRateLimitRetryHandler(max_retry_count=2, max_wait=max_inline_wait),
        AsyncServerErrorRetryHandler(
            max_retry_count=2,
            interval_calculator=BackoffRetryIntervalCalculator(
                backoff_factor=server_backoff, jitter=ProportionalJitter()
            ),
        ),
    ]


def make_client(
    token: str,
    base_url: str,
    max_inline_wait: float = MAX_INLINE_WAIT,
    server_backoff: float = 0.5,
) -> AsyncWebClient:
    """slack_sdk's client with our retry handlers; `base_url` points at Slack or a fake."""
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry_handlers=retry_handlers(max_inline_wait, server_backoff),
        timeout=30,
    )


def send_error(error: Exception) -> SendError:
    """A SlackApiError or transport failure as the port's SendError."""
    if isinstance(error, SlackApiError):
        response = error.response
        reason = str(response.get("error") or f"http_{response.status_code}")
        if response.status_code == 429 or reason == "ratelimited":
            return SendError("ratelimited", retry_after=_retry_after(response.headers))
        if reason in APP_PROBLEMS:
            log.error(
                "Slack refused the app (%s): check BEHOLDE_SLACK_BOT_TOKEN and scopes", reason
            )
        return SendError(reason, permanent=reason in PERSON_PERMANENT)
    return SendError(f"network: {type(error).__name__}")


class SlackSender:
    """Rate-limited Web API calls; a final failure raises SendError with Slack's reason."""

    def __init__(
        self,
        client: AsyncWebClient,
        tier_per_minute: dict[int, float] | None = None,
        channel_rate: float = CHANNEL_RATE,
        channel_burst: int = CHANNEL_BURST,
        tier_period: float = 60.0,
    ) -> None:
        self.client = client
        tiers = tier_per_minute or TIER_PER_MINUTE

        def method_limits(method: str) -> list[tuple[int, float]]:
            tier = METHOD_TIER.get(method)
            # A minute's budget may be spent in a burst, as Slack allows, then it paces.
            return [(max(1, int(tiers[tier])), tier_period)] if tier else []

        self.methods = Pacer(per_chat=method_limits)  # keyed by method name
        self.channels = Pacer(per_chat=[(channel_burst, channel_burst / channel_rate)])
        self._dm: dict[str, str] = {}

    async def call(
        self,
        method: str,
        request: Callable[[], Awaitable[AsyncSlackResponse]],
        channel: str | None = None,
    ) -> AsyncSlackResponse:
        """Wait for the budgets, make the call, translate a failure into SendError."""
        channel_slot = self.channels.slot(channel) if channel else contextlib.nullcontext()
        async with self.methods.slot(method), channel_slot:
            try:
                return await request()
            except (TimeoutError, SlackApiError, SlackClientError, OSError) as error:
                failure = send_error(error)
        if failure.retry_after:
            self.methods.back_off(method, failure.retry_after)
        raise failure

    # ------------------------------------------------------------------ the calls we make

    async def open_dm(self, user_id: str) -> str:
        """The bot's direct-message channel with a user (cached: it never changes)."""
        channel = self._dm.get(user_id)
        if channel is None:
            response = await self.call(
                "conversations.open", lambda: self.client.conversations_open(users=user_id)
            )
            channel = str(response["channel"]["id"])
            self._dm[user_id] = channel
        return channel

    async def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> str:
        response = await self.call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False
            ),
            channel=channel,
        )
        return str(response["ts"])

    async def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        await self.call(
            "chat.update",
            lambda: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
        )

    async def ephemeral(self, channel: str, user: str, text: str) -> None:
        await self.call(
            "chat.postEphemeral",
            lambda: self.client.chat_postEphemeral(channel=channel, user=user, text=text),
        )

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self.call(
            "views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view)
        )

    async def lookup_email(self, email: str) -> str | None:
        """The Slack user id for an e-mail address, or None if nobody has it."""
        try:
            response = await self.call(
                "users.lookupByEmail", lambda: self.client.users_lookupByEmail(email=email)
            )
        except SendError as error:
            if error.reason == "users_not_found":
                return None
            raise
        return str(response["user"]["id"])

    async def user_email(self, user_id: str) -> str | None:
        try:
            response = await self.call("users.info", lambda: self.client.users_info(user=user_id))
        except SendError as error:
            if error.reason == "user_not_found":
                return None
            raise
        email = (response["user"].get("profile") or {}).get("email")
        return str(email).lower() if email else None

    async def upload(self, channel: str, content: bytes, filename: str, comment: str) -> str:
        """An image (a steering-group chart) with its caption."""
        response = await self.call(
            "files.completeUploadExternal",
            lambda: self.client.files_upload_v2(
                channel=channel, content=content, filename=filename, initial_comment=comment
            ),
            channel=channel,
        )
        files = response.get("files") or [{}]
        return str(files[0].get("id", ""))
