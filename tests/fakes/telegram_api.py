"""A fake Telegram Bot API server for tests and benchmarks (aiohttp, on 127.0.0.1).

It implements the methods beholde uses with Telegram's response shapes and limits: 4096
characters of text, 64 bytes of callback_data (400), a global messages-per-second cap (429
with `parameters.retry_after`), 403 for a chat that blocked the bot, and injectable 429s and
5xx answers. Every call is recorded. Updates are pushed by the test and handed out through
`getUpdates` (long polling), or built with `message_update`/`callback_update` and POSTed to
a webhook by the test itself.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local import Started, serve

TOKEN = "123456789:AAE-fake-token-for-tests-0123456789"
SENDS = {"sendMessage", "editMessageText", "sendPhoto"}
COMMAND_NAME = "abcdefghijklmnopqrstuvwxyz0123456789_"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)


class FakeTelegram(Started):
    """The server, its recorded calls, its chats and its failure injection."""

    def __init__(
        self,
        token: str = TOKEN,
        per_second: int = 30,
        window: float = 1.0,
        retry_after: int = 1,
        p429: float = 0.0,
        p5xx: float = 0.0,
        seed: int = 1,
    ) -> None:
        self.token = token
        self.per_second = per_second
        self.window = window
        self.retry_after = retry_after
        self.p429 = p429
        self.p5xx = p5xx
        self.random = random.Random(seed)
        self.calls: list[Call] = []  # recorded when answered
        self.arrived: collections.Counter[str] = collections.Counter()  # counted on arrival
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0  # the highest update_id the bot confirmed via `offset`
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.by_chat: dict[str, list[int]] = collections.defaultdict(list)
        self.blocked: set[str] = set()
        self.fail_next: collections.deque[tuple[str, int]] = collections.deque()
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.username = "beholde_test_bot"
        self._sent_times: collections.deque[float] = collections.deque()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----------------------------------------------------------------- server

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner, self.port = await serve(app, shutdown_timeout=0.1)
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ----------------------------------------------------------------- what tests push

    def _user(self, chat_id: str, name: str) -> dict[str, Any]:
        return {"id": int(chat_id), "is_bot": False, "first_name": name, "language_code": "nb"}

    def message_update(self, chat_id: str, text: str, name: str = "Kari") -> dict[str, Any]:
        """A private message as Telegram delivers it (commands carry a bot_command entity)."""
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private", "first_name": name},
            "from": self._user(chat_id, name),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(
        self, chat_id: str, data: str, message_id: int | None = None, name: str = "Kari"
    ) -> dict[str, Any]:
        """A button press on `message_id` (default: the chat's newest bot message)."""
        if message_id is None:
            message_id = self.by_chat[chat_id][-1] if self.by_chat[chat_id] else 1
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "text": "?",
        }
        query = {
            "id": str(next(self._query_ids)),
            "from": self._user(chat_id, name),
            "chat_instance": f"ci{chat_id}",
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def push(self, update: dict[str, Any]) -> int:
        """Make an update available to getUpdates."""
        self.updates.append(update)
        self._new_update.set()
        return int(update["update_id"])

    def say(self, chat_id: str, text: str, name: str = "Kari") -> int:
        return self.push(self.message_update(chat_id, text, name))

    def press(self, chat_id: str, label: str, message_id: int | None = None) -> int:
        """Press the button labelled `label` on the newest message that has it."""
        message = self.with_button(chat_id, label) if message_id is None else None
        if message is None:
            message = self.messages[(chat_id, message_id or self.by_chat[chat_id][-1])]
        data = next(b["callback_data"] for b in buttons(message) if b["text"] == label)
        return self.push(self.callback_update(chat_id, data, message["message_id"]))

    # ----------------------------------------------------------------- what tests read

    def chat(self, chat_id: str) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they look now (edits applied), oldest first."""
        return [self.messages[(chat_id, mid)] for mid in self.by_chat[chat_id]]

    def with_button(self, chat_id: str, label: str | None = None) -> dict[str, Any] | None:
        for message in reversed(self.chat(chat_id)):
            labels = [b["text"] for b in buttons(message)]
            if labels and (label is None or label in labels):
                return message
        return None

    def ok_calls(self, method: str, chat_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and c.status == 200 and (chat_id is None or c.chat_id == chat_id)
        ]

    # ----------------------------------------------------------------- the API

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(request, "?", {}, 401, "Unauthorized")
        method = request.match_info["method"]
        self.arrived[method] += 1
        params = await _params(request)
        handler = getattr(self, "api_" + method, None)
        if handler is None:
            return self._error(request, method, params, 404, "Not Found: method not found")
        if self.fail_next and self.fail_next[0][0] == method:
            status = self.fail_next.popleft()[1]
            return self._failure(request, method, params, status)
        if method in SENDS:
            chat_id = str(params.get("chat_id"))
            if chat_id in self.blocked:
                return self._error(
                    request, method, params, 403, "Forbidden: bot was blocked by the user"
                )
            roll = self.random.random()
            if roll < self.p429:
                return self._failure(request, method, params, 429)
            if roll < self.p429 + self.p5xx:
                return self._failure(request, method, params, 502)
            now = time.monotonic()
            while self._sent_times and now - self._sent_times[0] >= self.window:
                self._sent_times.popleft()
            if len(self._sent_times) >= self.per_second:
                return self._failure(request, method, params, 429)
        try:
            result = handler(params)
        except ApiError as error:
            return self._error(request, method, params, error.status, error.description)
        if method in SENDS:
            self._sent_times.append(time.monotonic())
        if asyncio.iscoroutine(result):
            result = await result
        self.calls.append(Call(method, params, 200))
        return web.json_response({"ok": True, "result": result})

    def _failure(
        self, request: web.Request, method: str, params: dict[str, Any], status: int
    ) -> web.Response:
        if status == 429:
            return self._error(
                request,
                method,
                params,
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        return self._error(request, method, params, status, "Bad Gateway")

    def _error(
        self,
        request: web.Request,
        method: str,
        params: dict[str, Any],
        status: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> web.Response:
        self.calls.append(Call(method, params, status))
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    def api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "beholde",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    def api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            name = command.get("command", "")
            if not name or len(name) > 32 or any(ch not in COMMAND_NAME for ch in name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[str(params.get("language_code") or "")] = commands
        return True

    async def api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset - 1)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self.updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        limit = int(params.get("limit") or 100)
        return self.updates[:limit]

    def api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store(params, text=text)

    def api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("photo"):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = params.get("caption")
        if caption and _utf16(str(caption)) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        return self._store(
            params,
            caption=caption,
            photo=[{"file_id": "p", "width": 1, "height": 1, "file_unique_id": "u"}],
        )

    def api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = str(params.get("chat_id")), int(params.get("message_id") or 0)
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        text = str(params.get("text") or "")
        if _utf16(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = _checked_markup(params.get("reply_markup"))
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply"
                " markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        message["edit_date"] = int(time.time())
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return message

    def api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        text = params.get("text")
        if text and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _store(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = str(params.get("chat_id"))
        markup = _checked_markup(params.get("reply_markup"))
        message_id = next(self._ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "group" if chat_id.startswith("-") else "private"},
            "from": {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "beholde"},
            **{k: v for k, v in content.items() if v is not None},
        }
        if markup is not None:
            message["reply_markup"] = markup
        self.messages[(chat_id, message_id)] = message
        self.by_chat[chat_id].append(message_id)
        return message


class ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _checked_markup(markup: Any) -> dict[str, Any] | None:
    if not markup:
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup or None


async def _params(request: web.Request) -> dict[str, Any]:
    """Bot API parameters from JSON, a form or multipart (PTB JSON-encodes nested values)."""
    if request.content_type == "application/json":
        return dict(await request.json())
    if request.method == "GET":
        raw: dict[str, Any] = dict(request.query)
    else:
        raw = {}
        form = await request.post()
        for key, value in form.items():
            raw[key] = value.file.read() if hasattr(value, "file") else value
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    if isinstance(params.get("photo"), str) and params["photo"].startswith("attach://"):
        params["photo"] = raw.get(params["photo"][len("attach://") :])
    return params
