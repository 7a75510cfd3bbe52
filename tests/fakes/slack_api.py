"""A fake Slack Web API on 127.0.0.1 for tests and the benchmark.

It answers in Slack's own shapes (`{"ok": true, ...}` / `{"ok": false, "error": ...}`), checks
the bot token (`invalid_auth`), checks Block Kit limits the way Slack does (`invalid_blocks`),
can answer `ratelimited` with HTTP 429 and `Retry-After`, or a 500, on demand, and counts the
calls per API method so that tests assert on traffic instead of mocking the client.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.local import Started, serve

SECTION_TEXT_MAX = 3000
BUTTON_VALUE_MAX = 2000
ACTION_ID_MAX = 255
BLOCKS_MAX = 50


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeSlack(Started):
    """State of one fake workspace; `start()` serves it on a free local port."""

    token: str = "xoxb-test-token"
    app_token: str = "xapp-1-test-app-token"  # Socket Mode's app-level token
    team_id: str = "T0BEHOLDE"
    bot_user_id: str = "UBOT"
    users: dict[str, str] = field(default_factory=dict)  # email -> user id
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # method -> queued failures: ("ratelimited", seconds) | ("server_error", 0) | (error, 0)
    failures: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))
    files: dict[str, bytes] = field(default_factory=dict)
    base_url: str = ""
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner, port = await serve(app)
        self.base_url = f"http://127.0.0.1:{port}/api/"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ inspection

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    def counts(self) -> Counter[str]:
        return Counter(c.method for c in self.calls)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def fail(self, method: str, error: str, times: int = 1, retry_after: float = 0) -> None:
        """Make the next `times` calls of `method` fail with `error`."""
        self.failures[method].extend([(error, retry_after)] * times)

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id

    def add_user(self, email: str, user_id: str) -> None:
        self.users[email.lower()] = user_id

    # ------------------------------------------------------------------ handlers

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                for key, value in form.items():
                    params[key] = value if isinstance(value, str) else "<file>"
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        auth = request.headers.get("Authorization", "")
        if method == "apps.connections.open":  # the one call made with the app token
            if auth != f"Bearer {self.app_token}":
                return _error("invalid_auth" if auth else "not_authed")
            return web.json_response({"ok": True, "url": "ws://127.0.0.1:9/unused"})
        if auth != f"Bearer {self.token}" and params.get("token") != self.token:
            return _error("invalid_auth" if auth else "not_authed")
        queued = self.failures.get(method)
        if queued:
            error, retry_after = queued.pop(0)
            if error == "ratelimited":
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": f"{retry_after:g}"},
                )
            if error == "server_error":
                return web.json_response({"ok": False, "error": "internal_error"}, status=500)
            return _error(error)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method")
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        return web.json_response(result)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://beholde-test.slack.com/",
            "team": "beholde test",
            "user": "beholde",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "BBOT",
        }

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        if users not in self.users.values():
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.dm_channel(users)}}

    def _users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        if email not in self.users:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": self.users[email], "profile": {"email": email}}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        for email, uid in self.users.items():
            if uid == user:
                return {"ok": True, "user": {"id": uid, "profile": {"email": email}}}
        return {"ok": False, "error": "user_not_found"}

    def _known_channel(self, channel: str) -> bool:
        return channel.startswith(("D", "C", "G")) and len(channel) > 1

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not self._known_channel(channel):
            return {"ok": False, "error": "channel_not_found"}
        problem = check_blocks(params.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = {"text": params.get("text"), "blocks": params.get("blocks") or [], "ts": ts}
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        problem = check_blocks(params.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        self.messages[key].update(text=params.get("text"), blocks=params.get("blocks") or [])
        return {"ok": True, "channel": key[0], "ts": key[1], "text": params.get("text")}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self._known_channel(str(params.get("channel", ""))):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = params.get("view") or {}
        problem = check_blocks(view.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):08d}"
        upload = self.base_url.replace("/api/", f"/upload/{file_id}")
        return {"ok": True, "upload_url": upload, "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        self.files[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - uploaded")

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        ids = [f["id"] for f in files or []]
        if not ids or any(i not in self.files for i in ids):
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "files": [{"id": i} for i in ids]}


def _error(error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error})


def check_blocks(blocks: Any) -> str | None:
    """Slack's own limits, checked independently of beholde's renderer."""
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > BLOCKS_MAX:
        return "too many blocks"
    action_ids: set[str] = set()
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and not 0 < len(text) <= SECTION_TEXT_MAX:
            return "section text length"
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            action_id = element.get("action_id", "")
            if action_id in action_ids or len(action_id) > ACTION_ID_MAX:
                return "action_id"
            action_ids.add(action_id)
            if len(element.get("value", "")) > BUTTON_VALUE_MAX:
                return "button value"
    return None
