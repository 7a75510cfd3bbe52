"""The Microsoft Teams transport on the Microsoft 365 Agents SDK: personal chat with cards.

Thin on purpose: the SDK's aiohttp `CloudAdapter` receives activities at `/api/messages`
(every request's JWT checked by the SDK's `JwtTokenValidator` first: a forged, expired or
wrong-audience token gets 401 before anything runs), this module translates an activity into
the engine's inbound event and the engine's reply into Bot Connector calls
(`teams_sender.py`, paced and classified; `teams_cards.py`, the Adaptive Cards).

A person's address is their Entra object id (`aadObjectId`), the same in every Teams chat,
like a Slack user id. Where their personal chat is (conversation id and service URL) is
stored when they are bound to the roster (`storage/teams.py`). Binding happens when the app
is installed for them or when they first write: the connector's member lookup gives their
e-mail / UPN, and a rostered person with that e-mail is bound. Anyone else gets a polite
reply and nothing is stored. Removing the app marks the person unreachable until they write
again; a 403 when sending does the same through the outbox.

The e-mail lookup uses the core connector client's `GET /v3/conversations/{id}/members/{id}`
(Teams answers with `email` and `userPrincipalName`), not `microsoft-agents-hosting-msteams`:
that package brings msgraph-sdk and its Azure dependencies for one call we already have.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import warnings
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from bot import teams_directory as directory
from bot.conversation import Conversation
from bot.i18n import LANGUAGES, t
from bot.inbound import queue_reply, receive
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
from bot.transports import teams_cards as cards

# The Agents SDK, MSAL and azure-core are ~60 MB and ~0.8 s: loaded only when Teams is
# configured (`build`), not by every `beholde serve` that merely looks for an installer.
if TYPE_CHECKING:
    from microsoft_agents.activity import Activity
    from microsoft_agents.hosting.aiohttp import CloudAdapter
    from microsoft_agents.hosting.core import AgentAuthConfiguration, TurnContext

    from bot.pacing import Pacer
    from bot.serve import Service
    from bot.settings import Settings
    from bot.transports.teams_sender import TeamsSender

log = logging.getLogger(__name__)

PLATFORM = directory.PLATFORM
PATH = "/api/messages"
CONCURRENCY = 32  # conversations sent to at once; the pacer keeps the tenant's 50/s
MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
# Commands that take words after them; other command words count only when sent alone, so a
# free-text answer that begins with "pause ..." stays an answer.
WITH_ARGUMENTS = frozenset(
    {"språk", "runde", "samling", "oppgave", "påminn", "arbeidstid", "kommer"}
)


class TeamsTransport:
    """The outbox's way out to Teams: personal chats, and the steering group's channel."""

    platform = PLATFORM
    concurrency = CONCURRENCY

    def __init__(
        self,
        sender: TeamsSender,
        engine: Conversation,
        steering_conversation: str | None,
        service_url: str,
    ) -> None:
        self.sender = sender
        self.engine = engine
        self.steering_conversation = steering_conversation
        self.service_url = service_url

    def shared_pacers(self) -> dict[str, tuple[Pacer, Literal["global", "chats"]]]:
        """The tenant's ~50 requests a second are per app: shared across instances."""
        return {"": (self.sender.pacer, "global")}

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        found = await asyncio.to_thread(self._where, address.chat_id)
        if found is None:
            raise SendError("no Teams conversation known for this person", permanent=True)
        (conversation_id, service_url), lang = found
        return await self.sender.send(service_url, conversation_id, cards.activity(message, lang))

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        if not self.steering_conversation:
            raise SendError("BEHOLDE_TEAMS_STEERING_CONVERSATION is not set", permanent=True)
        return await self.sender.send(
            self.service_url, self.steering_conversation, cards.activity(message)
        )

    def _where(self, user_id: str) -> tuple[tuple[str, str], str] | None:
        return directory.where(self.engine, user_id)


class TeamsBot:
    """The SDK's agent: one activity in, the engine's reply out."""

    def __init__(
        self,
        engine: Conversation,
        sender: TeamsSender,
        transport: TeamsTransport,
        tenant_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.sender = sender
        self.transport = transport
        self.tenant_id = tenant_id

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        tenant = activity.conversation.tenant_id if activity.conversation else None
        if self.tenant_id and tenant and tenant.lower() != self.tenant_id.lower():
            log.warning("Teams activity from another tenant ignored")
            return
        if activity.type == "message":
            await self.on_message(activity)
        elif activity.type == "installationUpdate":
            await self.on_installation(activity)
        elif activity.type == "conversationUpdate":
            await self.on_conversation_update(activity)

    # ------------------------------------------------------------------ activities

    async def on_message(self, activity: Activity) -> None:
        user = _user_id(activity)
        if user is None:
            return
        address = Address(PLATFORM, user)
        event = self.event(activity, address)
        if event is None:
            return
        key = f"activity:{activity.id}"
        if not await asyncio.to_thread(self._known, activity, user):
            if await self.bind(activity, user) is None:
                await self.say(activity, t(self.engine.config.default_language, "teams_stranger"))
                return
            if not await asyncio.to_thread(self._claim, key):
                return
            reply: Reply | None = await asyncio.to_thread(self.engine.greet, address)
        else:
            reply = await asyncio.to_thread(receive, self.engine, PLATFORM, key, event)
        if reply is not None:
            await self.deliver(reply, activity, address, key)

    async def on_installation(self, activity: Activity) -> None:
        user = _user_id(activity)
        if user is None or not _personal(activity):
            return
        if (activity.action or "").startswith("add"):
            await self.welcome(activity, user)
        elif (activity.action or "").startswith("remove"):
            marked = await asyncio.to_thread(self._removed, user)
            log.info("Teams app removed by %s person", "a rostered" if marked else "an unknown")

    async def on_conversation_update(self, activity: Activity) -> None:
        """Added to a team or group chat: say which id the steering setting needs."""
        bot = activity.recipient.id if activity.recipient else None
        added = [m.id for m in activity.members_added or []]
        if bot and bot in added and not _personal(activity) and activity.conversation:
            lang = self.engine.config.default_language
            await self.say(
                activity, t(lang, "teams_channel_id", conversation=activity.conversation.id)
            )

    async def welcome(self, activity: Activity, user: str) -> None:
        if await self.bind(activity, user) is None:
            await self.say(activity, t(self.engine.config.default_language, "teams_stranger"))
            return
        key = f"install:{activity.id}"
        if not await asyncio.to_thread(self._claim, key):
            return  # the same installation delivered twice
        address = Address(PLATFORM, user)
        reply = await asyncio.to_thread(self.engine.greet, address)
        await self.deliver(reply, activity, address, key)

    # ------------------------------------------------------------------ translation

    def event(self, activity: Activity, address: Address) -> InboundEvent | None:
        """A button press, a card's text, a command (with or without a slash) or text."""
        data = cards.pressed(activity.value)
        if data is not None:
            return ChoicePressed(address, data)
        typed = cards.typed(activity.value)
        if typed is not None:
            return TextReceived(address, typed)
        text = MENTION.sub(" ", activity.text or "").strip()
        if not text and activity.value is not None:
            return ChoicePressed(address, "")  # card data we never made: refused kindly
        if not text:
            return None
        return command_of(self.engine, address, text) or TextReceived(address, text)

    # ------------------------------------------------------------------ replies

    async def deliver(self, reply: Reply, activity: Activity, address: Address, key: str) -> None:
        """Update the pressed card, then send what follows; what fails goes to the outbox."""
        messages = list(reply.messages)
        card_id = activity.reply_to_id if activity.value is not None else None
        edit = reply.edit
        saved = {t(lang, "text_saved") for lang in LANGUAGES}
        if cards.typed(activity.value) is not None and messages and messages[0].text in saved:
            edit = OutgoingMessage(t("nb", "teams_text_saved", saved=messages[0].text))
            messages = messages[1:]
        if edit is not None and card_id and activity.conversation and activity.service_url:
            try:
                await self.sender.update(
                    activity.service_url,
                    activity.conversation.id,
                    card_id,
                    cards.activity(edit, buttons=False),
                )
            except SendError as error:
                log.warning("could not update the pressed card: %s", error.reason)
        if reply.notice:
            messages.insert(0, OutgoingMessage(reply.notice))
        for index, message in enumerate(messages):
            try:
                await self.transport.send(address, message)
            except SendError as error:
                log.warning("reply goes to the outbox after a failed send: %s", error.reason)
                await asyncio.to_thread(queue_reply, self.engine, address, messages[index:], key)
                return

    async def say(self, activity: Activity, text: str) -> None:
        """A plain answer in the conversation the activity came from (nothing stored)."""
        if not activity.service_url or not activity.conversation:
            return
        try:
            await self.sender.send(
                activity.service_url,
                activity.conversation.id,
                cards.activity(OutgoingMessage(text)),
            )
        except SendError as error:
            log.warning("could not answer on Teams: %s", error.reason)

    # ------------------------------------------------------------------ roster binding

    async def bind(self, activity: Activity, user: str) -> int | None:
        """Look the user up (e-mail / UPN) and bind them to the roster; their person id."""
        if not _personal(activity) or not activity.service_url or not activity.conversation:
            return None
        member_id = activity.from_property.id if activity.from_property else None
        if not member_id:
            return None
        try:
            member = await self.sender.member(
                activity.service_url, activity.conversation.id, member_id
            )
        except SendError as error:
            log.info("could not look up a Teams member: %s", error.reason)
            return None
        extra = member.model_extra or {}
        email = str(extra.get("email") or extra.get("userPrincipalName") or "").strip()
        if not email:
            return None
        return await asyncio.to_thread(self._bind, activity, user, email)

    def _bind(self, activity: Activity, user: str, email: str) -> int | None:
        reference = _reference(activity)
        return directory.bind(self.engine, user, email, reference) if reference else None

    def _known(self, activity: Activity, user: str) -> bool:
        """Whether the sender is a bound person; refreshes where their chat is."""
        reference = _reference(activity) if _personal(activity) else None
        return directory.known(self.engine, user, reference)

    def _claim(self, key: str) -> bool:
        return directory.claim(self.engine, key)

    def _removed(self, user: str) -> bool:
        return directory.removed(self.engine, user)


def command_of(engine: Conversation, address: Address, text: str) -> Command | None:
    """`/puls`, `puls`, `språk en`, `/runde status`: a command; anything else: None."""
    words = text.split()
    first = words[0]
    if first.startswith("/"):
        return Command(address, first[1:].lower() or "hjelp", tuple(words[1:]))
    name = first.lower()
    if engine.commands.get(name) is None:
        return None
    if len(words) > 1 and engine.commands.canonical.get(name) not in WITH_ARGUMENTS:
        return None
    return Command(address, name, tuple(words[1:]), typed=text)


def _user_id(activity: Activity) -> str | None:
    sender = activity.from_property
    return str(sender.aad_object_id) if sender and sender.aad_object_id else None


def _personal(activity: Activity) -> bool:
    conversation = activity.conversation
    return bool(conversation) and (conversation.conversation_type or "personal") == "personal"


def _reference(activity: Activity) -> directory.Reference | None:
    conversation = activity.conversation
    if conversation is None or not activity.service_url:
        return None
    return directory.Reference(conversation.id, activity.service_url, conversation.tenant_id)


# ---------------------------------------------------------------------- composition


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The Entra app registration as the SDK's configuration (validation and MSAL)."""
    from microsoft_agents.hosting.core import AgentAuthConfiguration

    secret = settings.teams_app_password
    return AgentAuthConfiguration(
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=secret.get_secret_value() if secret else None,
        connection_name="SERVICE_CONNECTION",
    )


def build(settings: Settings, engine: Conversation) -> tuple[TeamsBot, CloudAdapter, Any]:
    """The SDK's adapter with MSAL client credentials, and beholde's agent on it."""
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.aiohttp import CloudAdapter

    from bot.transports.teams_sender import TeamsSender

    configuration = auth_configuration(settings)
    connections = MsalConnectionManager(
        connections_configurations={"SERVICE_CONNECTION": configuration}
    )
    adapter = CloudAdapter(connection_manager=connections)
    adapter.on_turn_error = _on_turn_error  # the SDK's default would show the error to people
    sender = TeamsSender(connections.get_default_connection())
    transport = TeamsTransport(
        sender, engine, settings.teams_steering_conversation, settings.teams_service_url
    )
    bot = TeamsBot(engine, sender, transport, settings.teams_tenant_id)
    return bot, adapter, configuration


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    log.error("Teams activity failed: %s", type(error).__name__, exc_info=error)


def http_handler(bot: TeamsBot, adapter: CloudAdapter) -> Any:
    """The aiohttp view for `/api/messages`: the SDK validates the JWT, then runs the turn."""
    from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator

    @jwt_authorization_decorator
    async def messages(request: web.Request) -> web.StreamResponse:
        if not await _is_activity(request):  # the SDK would answer 500 and log the body
            log.warning("Teams: refused a body that is not an activity")
            return web.Response(status=400, text="not an activity")
        response = await adapter.process(request, bot)  # what start_agent_process calls
        return response if response is not None else web.Response(status=202)

    return messages


async def _is_activity(request: web.Request) -> bool:
    """Whether the body is an activity the SDK can take: JSON, a valid `Activity`, with a
    sender and a conversation (Teams always sends both)."""
    from microsoft_agents.activity import Activity
    from pydantic import ValidationError

    try:
        activity = Activity.model_validate(json.loads(await request.read()))
    except (ValueError, ValidationError):  # not JSON, not UTF-8, not an activity
        return False
    return activity.from_property is not None and activity.conversation is not None


TEAMS_BOT_KEY = web.AppKey("teams_bot", TeamsBot)


def install(service: Service) -> bool:
    """Teams in `beholde serve` when BEHOLDE_TEAMS_APP_ID is set."""
    settings = service.settings
    if not settings.teams_app_id:
        return False
    if settings.teams_app_password is None or not settings.teams_tenant_id:
        raise SystemExit(t(settings.language, "ops.start.teams_needs"))
    bot, adapter, configuration = build(settings, service.engine)
    # The connector client's refusals that beholde retries are filtered, the rest stay
    # (teams_sender.quiet_sdk_retries, installed by the sender).
    # Activity's validator logs a refused body in full, with a traceback; we refuse it (400).
    logging.getLogger("microsoft_agents.activity.activity").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():  # the SDK's middleware reads this plain string key
        warnings.simplefilter("ignore")
        service.web["agent_configuration"] = configuration
    service.web[TEAMS_BOT_KEY] = bot
    service.web.router.add_post(PATH, http_handler(bot, adapter))
    service.transports[PLATFORM] = bot.transport
    service.on_start.append(bot.sender.warm_up)
    service.on_stop.append(bot.sender.close)
    log.info("Teams installed at %s", PATH)
    return True
