"""Slack's side of inbound traffic: signed events, button presses and slash commands.

Requests are signed exactly as Slack signs them (`v0=` HMAC-SHA256 over
`v0:{timestamp}:{body}` with the signing secret, via slack_sdk's SignatureVerifier) and
POSTed over HTTP to a running `/slack/events` endpoint.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # a test signing secret, not a real one
_ids = itertools.count(1)


def signed_headers(
    body: str, secret: str = SECRET, timestamp: int | None = None, content_type: str = ""
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type or "application/x-www-form-urlencoded",
    }


def action_body(
    user: str, channel: str, ts: str, value: str, action_id: str = "beholde_choice:0"
) -> str:
    n = next(_ids)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0BEHOLDE", "domain": "beholde-test"},
        "user": {"id": user, "team_id": "T0BEHOLDE"},
        "api_app_id": "A0BEHOLDE",
        "token": "legacy",
        "trigger_id": f"{n}.trigger",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": ts, "text": "question"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": f"{time.time():.6f}{n}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def command_body(user: str, text: str, channel: str = "CGENERAL") -> str:
    n = next(_ids)
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T0BEHOLDE",
            "channel_id": channel,
            "user_id": user,
            "command": "/beholde",
            "text": text,
            "api_app_id": "A0BEHOLDE",
            "trigger_id": f"{n}.command",
            "response_url": "http://127.0.0.1:9/unused",
        }
    )


def dm_body(user: str, channel: str, text: str) -> str:
    n = next(_ids)
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T0BEHOLDE",
            "api_app_id": "A0BEHOLDE",
            "type": "event_callback",
            "event_id": f"Ev{n:08d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": channel,
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
            },
            "authorizations": [{"team_id": "T0BEHOLDE", "user_id": "UBOT", "is_bot": True}],
        }
    )


def form_body(user: str, text: str, metadata: dict[str, str]) -> str:
    n = next(_ids)
    payload = {
        "type": "view_submission",
        "team": {"id": "T0BEHOLDE"},
        "user": {"id": user, "team_id": "T0BEHOLDE"},
        "api_app_id": "A0BEHOLDE",
        "trigger_id": f"{n}.view",
        "view": {
            "id": f"V{n:08d}",
            "hash": f"h{n}",
            "type": "modal",
            "callback_id": "beholde_text",
            "private_metadata": json.dumps(metadata),
            "state": {"values": {"answer": {"text": {"type": "plain_text_input", "value": text}}}},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    retry: int | None = None,
    json_body: bool = False,
) -> int:
    headers = signed_headers(body, secret, timestamp, "application/json" if json_body else "")
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    async with http.post(url, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status


def open_buttons(
    messages: dict[tuple[str, str], dict[str, Any]], channel: str
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Messages in a channel that still have buttons, oldest first: (ts, buttons)."""
    found = []
    for (ch, ts), message in sorted(messages.items(), key=lambda kv: kv[0][1]):
        if ch != channel:
            continue
        buttons = [
            element
            for block in message.get("blocks", [])
            if block.get("type") == "actions"
            for element in block.get("elements", [])
        ]
        if buttons:
            found.append((ts, buttons))
    return found
