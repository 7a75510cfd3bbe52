"""The Slack transport on slack-bolt's AsyncApp: DMs with Block Kit buttons, `/beholde`, forms.

Thin on purpose: listeners acknowledge at once (Slack wants an answer within 3 s), then a
task translates the payload into the engine's inbound event, runs the engine in a thread and
turns its reply into Web API calls. No dialogue logic lives here.

A person's address is their Slack *user id* (`U…`), not a channel: every payload (button,
slash command typed in any channel, DM, form) names the user, while the DM channel is found
with `conversations.open` when we write (and cached). So `/beholde puls` typed in a public
channel still reaches the right person, and answers always come in the DM.

HTTP mode serves events, interactivity and slash commands at `/slack/events` on
`beholde serve`'s web server, verified with the signing secret (bolt answers 401 to a bad
signature or a timestamp older than 5 minutes). With `BEHOLDE_SLACK_APP_TOKEN` set, Socket
Mode is used instead and no public URL is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot import inbound
from bot import platform_forms as forms
from bot.i18n import t
from bot.ports import (
    Address,
    ChoicePressed,
    Command,
    InboundEvent,
    OutgoingMessage,
    Reply,
    SendError,
    TextReceived,
)
from bot.transports.slack_blocks import (
    CHOICE_ACTION,
    TEXT_ACTION,
    TEXT_BLOCK,
    TEXT_INPUT,
    TEXT_VIEW,
    escape,
    render,
    text_form,
)
from bot.transports.slack_sender import SlackSender, make_client

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from bot.pacing import Pacer
    from bot.serve import Service
    from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "slack"
PATH = "/slack/events"
COMMAND = "/beholde"
ENGINE_SLOTS = 4  # engine calls at once (threads); the service runs on few cores
KEEP_CLAIMS = dt.timedelta(days=2)  # Slack retries for minutes; two days is plenty


class SlackTransport:
    """The outbox's way out to Slack: DMs to people, posts to the steering channel."""

    platform = PLATFORM

    def __init__(
        self, sender: SlackSender, engine: Conversation, steering_channel: str | None = None
    ) -> None:
        self.sender = sender
        self.engine = engine
        self.steering_channel = steering_channel

    def shared_pacers(self) -> dict[str, tuple[Pacer, Literal["global", "chats"]]]:
        """The tier budgets (one per method) are per workspace: shared across instances."""
        return {"": (self.sender.methods, "chats")}

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        channel = await self.sender.open_dm(address.chat_id)
        lang = await self._language(address) if message.free_text else "nb"
        return await self.post(channel, message, lang)

    async def post(self, channel: str, message: OutgoingMessage, lang: str = "nb") -> str:
        """Post one message to a channel; returns `channel:ts`, what chat.update needs."""
        if message.image:
            file_id = await self.sender.upload(
                channel, message.image, message.image_name, message.text
            )
            return f"{channel}:{file_id}"
        text, blocks = render(message, lang)
        ts = await self.sender.post(channel, text, blocks)
        return f"{channel}:{ts}"

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        if not self.steering_channel:
            raise SendError("BEHOLDE_SLACK_STEERING_CHANNEL is not set", permanent=True)
        return await self.post(self.steering_channel, message)

    async def _language(self, address: Address) -> str:
        return await asyncio.to_thread(inbound.language_of, self.engine, address)


class SlackBot:
    """Inbound side: payload → engine event → reply → Web API calls, one task per delivery."""

    def __init__(self, engine: Conversation, sender: SlackSender, transport: SlackTransport):
        self.engine = engine
        self.sender = sender
        self.transport = transport
        self.tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(ENGINE_SLOTS)

    # ------------------------------------------------------------------ task bookkeeping

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run after the ack; kept so that shutdown (and tests) can wait for it."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack delivery failed", exc_info=task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for deliveries under way (graceful stop; tests use it to sync)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(
                set(self.tasks), timeout=max(0.0, deadline - asyncio.get_running_loop().time())
            )

    # ------------------------------------------------------------------ listeners (ack only)

    def register(self, app: AsyncApp) -> None:
        async def on_choice(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self.spawn(self.on_choice(body))

        async def on_text_button(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self.spawn(self.on_text_button(body))

        async def on_form(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self.spawn(self.on_form(body))

        async def on_command(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self.spawn(self.on_command(body))

        async def on_message(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self.spawn(self.on_message(body))

        app.action({"type": "block_actions", "action_id": _choice_pattern()})(on_choice)
        app.action(TEXT_ACTION)(on_text_button)
        app.view(TEXT_VIEW)(on_form)
        app.command(COMMAND)(on_command)
        app.event("message")(on_message)

    # ------------------------------------------------------------------ the work after the ack

    async def on_choice(self, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        action = body["actions"][0]
        channel, ts = _message_location(body)
        key = f"action:{user}:{action.get('action_ts') or body.get('trigger_id')}"
        event = ChoicePressed(Address(PLATFORM, user), str(action.get("value", "")))
        reply = await self.handle(key, event)
        if reply is not None:
            await self.deliver(reply, user, key, channel, ts)

    async def on_text_button(self, body: dict[str, Any]) -> None:
        """Open the free-text form; its submission is handled like a typed answer."""
        user = body["user"]["id"]
        channel, ts = _message_location(body)
        lang = await self.transport._language(Address(PLATFORM, user))
        original = str(_dict(body.get("message")).get("text") or "")
        view = text_form(lang, 3000, {"c": channel or "", "ts": ts or "", "text": original})
        try:
            await self.sender.open_view(str(body.get("trigger_id", "")), view)
        except SendError as error:
            log.warning("could not open the answer form: %s", error.reason)

    async def on_form(self, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        view = _dict(body.get("view"))
        values = _dict(_dict(view.get("state")).get("values"))
        text = str(_dict(_dict(values.get(TEXT_BLOCK)).get(TEXT_INPUT)).get("value") or "")
        key = f"view:{view.get('id')}:{view.get('hash', '')}"
        reply = await self.handle(key, TextReceived(Address(PLATFORM, user), text))
        if reply is None:
            return
        metadata = _metadata(view.get("private_metadata"))
        channel, ts = metadata.get("c"), metadata.get("ts")
        if reply.answered and reply.messages and channel and ts:
            # The form answered the question: take its buttons away, as a press would.
            original = metadata.get("text") or ""
            reply.edit = OutgoingMessage(f"{original}\n✓ {reply.answered}".strip())
            reply.messages = reply.messages[1:]
        await self.deliver(reply, user, key, channel, ts)

    async def on_command(self, body: dict[str, Any]) -> None:
        user = str(body.get("user_id", ""))
        words = str(body.get("text") or "").split()
        name = words[0].lower().lstrip("/") if words else "hjelp"
        key = f"command:{body.get('trigger_id') or body.get('command_ts')}"
        event = Command(Address(PLATFORM, user), name, tuple(words[1:]))
        reply = await self.handle(key, event)
        if reply is not None:
            await self.deliver(reply, user, key, str(body.get("channel_id") or "") or None)

    async def on_message(self, body: dict[str, Any]) -> None:
        """A typed answer in the DM, or in a thread under the question."""
        event = _dict(body.get("event"))
        if (
            event.get("channel_type") != "im"
            or event.get("subtype")
            or event.get("bot_id")
            or not event.get("user")
        ):
            return
        user = str(event["user"])
        key = f"event:{body.get('event_id') or event.get('client_msg_id') or event.get('ts')}"
        reply = await self.handle(
            key, TextReceived(Address(PLATFORM, user), str(event.get("text") or ""))
        )
        if reply is not None:
            await self.deliver(reply, user, key, str(event.get("channel") or "") or None)

    # ------------------------------------------------------------------ engine and replies

    async def handle(self, key: str, event: InboundEvent) -> Reply | None:
        """The engine's reply, or None when this delivery was handled before (a retry).

        At most ENGINE_SLOTS engine calls run at a time: more threads only take the GIL from
        the event loop, which must stay free to acknowledge within Slack's 3 seconds.
        """
        async with self._slots:
            reply = await asyncio.to_thread(inbound.receive, self.engine, PLATFORM, key, event)
        if reply is not None and reply.unknown_sender:
            greeting = await self._match_stranger(event.address)
            if greeting is not None:
                return greeting
        return reply

    async def _match_stranger(self, address: Address) -> Reply | None:
        """An unknown user on the roster (same e-mail) is bound and greeted now."""
        try:
            email = await self.sender.user_email(address.chat_id)
        except SendError as error:
            log.info("could not look up a Slack user's e-mail: %s", error.reason)
            return None
        if not email:
            return None
        async with self._slots:
            return await asyncio.to_thread(inbound.greet_by_email, self.engine, address, email)

    async def deliver(
        self,
        reply: Reply,
        user: str,
        key: str,
        channel: str | None = None,
        ts: str | None = None,
    ) -> None:
        """Edit the pressed message, show the notice, send what follows — nothing lost.

        If Slack fails for the messages that follow, they go into the durable outbox and
        are sent with retries from there.
        """
        address = Address(PLATFORM, user)
        if reply.edit is not None and channel and ts:
            text, blocks = render(reply.edit, buttons=False)
            try:
                await self.sender.update(channel, ts, text, blocks)
            except SendError as error:
                log.warning("could not update the pressed message: %s", error.reason)
        if reply.notice:
            try:
                target = channel or await self.sender.open_dm(user)
                await self.sender.ephemeral(target, user, escape(reply.notice))
            except SendError as error:
                log.warning("could not show a notice: %s", error.reason)
        await inbound.send_or_queue(
            self.engine, partial(self.transport.send, address), address, reply.messages, key
        )


def _choice_pattern() -> Any:

    return re.compile(rf"^{CHOICE_ACTION}:\d+$")


def _message_location(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = _dict(body.get("container"))
    channel = _dict(body.get("channel")).get("id") or container.get("channel_id")
    ts = container.get("message_ts") or _dict(body.get("message")).get("ts")
    return (str(channel) if channel else None, str(ts) if ts else None)


def _metadata(raw: Any) -> dict[str, str]:
    try:
        data = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


# ---------------------------------------------------------------------- composition


def build_app(settings: Settings, engine: Conversation) -> tuple[AsyncApp, SlackBot]:
    """A fresh AsyncApp wired to the engine (a factory: no module-level app)."""
    if settings.slack_bot_token is None:
        raise ValueError("BEHOLDE_SLACK_BOT_TOKEN is not set")
    socket_mode = settings.slack_app_token is not None
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    app = AsyncApp(
        client=client,
        signing_secret=secret or None,
        request_verification_enabled=not socket_mode,
        process_before_response=True,  # our listeners only ack; the work runs in our tasks
        logger=logging.getLogger("slack_bolt.beholde"),
    )
    sender = SlackSender(client)
    transport = SlackTransport(sender, engine, settings.slack_steering_channel)
    bot = SlackBot(engine, sender, transport)
    bot.register(app)
    return app, bot


PASSED_TYPES = frozenset({"url_verification", "event_callback", "app_rate_limited"})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def payload_problem(payload: Any) -> str | None:
    """Why a (correctly signed) payload is not one beholde handles; None when it is.

    Every listener below may then read the fields it needs without guarding each one.
    """
    if not isinstance(payload, dict):
        return "the payload is not a JSON object"
    if "command" in payload or "ssl_check" in payload:
        return None if payload.get("ssl_check") or payload.get("user_id") else "no user"
    kind = payload.get("type")
    user = _dict(payload.get("user")).get("id")
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(user, str) or not user:
            return "block_actions without a user"
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "block_actions with a malformed action"
        return None
    if kind == "view_submission":
        if not isinstance(user, str) or not user:
            return "view_submission without a user"
        if _dict(payload.get("view")).get("callback_id") != TEXT_VIEW:
            return "view_submission for an unknown view"
        return None
    if kind == "event_callback" and not isinstance(payload.get("event"), dict):
        return "event_callback without an event"
    return None if kind in PASSED_TYPES else "not a kind of request beholde handles"


def unsigned(body: bytes, headers: Any, verifier: SignatureVerifier) -> tuple[int, str] | str:
    """(status, reason) for a body that is not signed by Slack now; else the body as text.

    Checked before slack-bolt parses anything (bolt parses the body before it verifies).
    """
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return 401, "the timestamp header is missing or not a number"
    try:
        text = body.decode("utf-8")  # Slack sends UTF-8; its signature is over that text
    except UnicodeDecodeError:
        return 400, "the body is not UTF-8 text"
    if not verifier.is_valid(text, timestamp, headers.get("X-Slack-Signature", "")):
        return 401, "bad signature or stale timestamp"
    return text


def bolt_request(text: str, request: web.Request) -> tuple[int, str] | AsyncBoltRequest:
    """The signed body as bolt's request, parsed once (issue 13: the form-encoded payload was
    unquoted twice, ~40 % of a press's time on the event loop); else (400, why)."""
    try:
        parsed = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
    except Exception:  # bolt parses (and reads fields) in its constructor
        return 400, "the body is neither Slack's JSON nor its form encoding"
    problem = payload_problem(parsed.body)
    return (400, problem) if problem else parsed


def http_handler(app: AsyncApp, signing_secret: str) -> Any:
    """The aiohttp view for `/slack/events`: checked, then bolt dispatches and answers.

    Whatever arrives gets an answer, never a 500: 401 for a bad signature or timestamp, 400
    for a body beholde does not handle — with one log line that leaves the payload out.
    """
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        checked = unsigned(body, request.headers, verifier)
        refused = bolt_request(checked, request) if isinstance(checked, str) else checked
        if isinstance(refused, AsyncBoltRequest):
            try:
                bolt_response = await app.async_dispatch(refused)
                return await to_aiohttp_response(bolt_response)
            except Exception as error:
                refused = 400, f"slack-bolt could not handle it ({type(error).__name__})"
        status, reason = refused
        log.warning("Slack request refused with %s: %s", status, reason)
        return web.Response(status=status, text="unauthorized" if status == 401 else "bad request")

    return slack_events


async def prune_loop(service: Service) -> None:
    """Forget old delivery claims once an hour."""
    while not service.stopping.is_set():
        with contextlib.suppress(Exception):
            await asyncio.to_thread(inbound.forget_old, service.engine, PLATFORM, KEEP_CLAIMS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(service.stopping.wait(), 3600)


# ---------------------------------------------------------------------- start-up checks

CHANNEL_ID_FORM = forms.SLACK_CHANNEL_ID


def _shown(value: str, limit: int = 40) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def settings_problem(settings: Settings) -> str | None:
    """What is wrong with the Slack settings before Slack is asked (None: nothing)."""
    lang = settings.language
    bot_token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not bot_token.startswith("xoxb-"):
        return t(
            lang, "startup_slack_token_malformed", setting="BEHOLDE_SLACK_BOT_TOKEN", prefix="xoxb-"
        )
    app_token = settings.slack_app_token
    if app_token is not None and not app_token.get_secret_value().startswith("xapp-"):
        return t(
            lang, "startup_slack_token_malformed", setting="BEHOLDE_SLACK_APP_TOKEN", prefix="xapp-"
        )
    if app_token is None and settings.slack_signing_secret is None:
        return t(lang, "startup_slack_signing_secret")
    channel = settings.slack_steering_channel
    if channel and not CHANNEL_ID_FORM.fullmatch(channel.strip()):
        return t(lang, "startup_slack_steering_channel", value=_shown(channel))
    return None


async def check_token(settings: Settings) -> str | None:
    """None when Slack accepts these settings (`auth.test`, and for Socket Mode
    `apps.connections.open`); else one sentence naming the setting, never the token.
    For `beholde serve` and `beholde doctor`."""
    problem = settings_problem(settings)
    if problem is not None:
        return problem
    assert settings.slack_bot_token is not None
    lang = settings.language
    base = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    checks = [("BEHOLDE_SLACK_BOT_TOKEN", settings.slack_bot_token.get_secret_value())]
    if settings.slack_app_token is not None:
        checks.append(("BEHOLDE_SLACK_APP_TOKEN", settings.slack_app_token.get_secret_value()))
    for setting, token in checks:
        client = AsyncWebClient(token=token, base_url=base, timeout=10)
        try:
            if setting == "BEHOLDE_SLACK_APP_TOKEN":
                await client.apps_connections_open(app_token=token)
            else:
                await client.auth_test()
        except SlackApiError as error:
            reason = str(error.response.get("error") or f"HTTP {error.response.status_code}")
            return t(lang, "startup_slack_token_rejected", setting=setting, reason=_shown(reason))
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
            reason = _shown(str(error) or type(error).__name__, 80).replace(token, "…")
            return t(lang, "startup_slack_unreachable", url=settings.slack_api_url, reason=reason)
    return None


async def _check_or_stop(settings: Settings) -> None:
    problem = await check_token(settings)
    if problem is not None:
        raise SystemExit(problem)


async def _warm_up(app: AsyncApp, bot: SlackBot) -> None:
    """Before the first request: what bolt and the engine would otherwise do on its way.

    slack-bolt asks `auth.test` on the first request (before the ack, once per request until
    one answer is in); we ask it now and give bolt the answer.
    """
    for middleware in getattr(app, "_async_middleware_list", []):
        unasked = getattr(middleware, "auth_test_result", True) is None
        if isinstance(middleware, AsyncSingleTeamAuthorization) and unasked:
            middleware.auth_test_result = await app.client.auth_test()
    await asyncio.to_thread(inbound.warm_up, bot.engine, ENGINE_SLOTS)


def install(service: Service) -> bool:
    """Slack in `beholde serve` when BEHOLDE_SLACK_BOT_TOKEN is set."""
    settings = service.settings
    if settings.slack_bot_token is None:
        return False
    problem = settings_problem(settings)
    if problem is not None:
        raise SystemExit(problem)
    socket_mode = settings.slack_app_token is not None
    app, bot = build_app(settings, service.engine)
    service.transports[PLATFORM] = bot.transport
    service.web[SLACK_BOT_KEY] = bot
    if socket_mode:
        service.tasks.append(lambda: run_socket_mode(app, settings))
    else:
        assert settings.slack_signing_secret is not None
        secret = settings.slack_signing_secret.get_secret_value()
        service.web.router.add_post(PATH, http_handler(app, secret))
    service.tasks.append(lambda: prune_loop(service))
    service.on_start.append(lambda: _check_or_stop(settings))
    service.on_start.append(lambda: _share_session(bot))
    service.on_start.append(lambda: _warm_up(app, bot))
    service.on_stop.append(lambda: _close_session(bot))
    service.on_stop.append(bot.drain)
    log.info("Slack installed (%s)", "Socket Mode" if socket_mode else f"HTTP at {PATH}")
    return True


SLACK_BOT_KEY = web.AppKey("slack_bot", SlackBot)


async def _share_session(bot: SlackBot) -> None:
    """One HTTP connection pool for every Web API call (slack_sdk opens one per call else)."""
    bot.sender.client.session = aiohttp.ClientSession()


async def _close_session(bot: SlackBot) -> None:
    session = bot.sender.client.session
    bot.sender.client.session = None
    if session is not None:
        await session.close()


async def run_socket_mode(app: AsyncApp, settings: Settings) -> None:
    """Socket Mode: Slack connects to us over a websocket; no public URL or signature."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    try:
        await asyncio.Event().wait()
    finally:
        await handler.close_async()
