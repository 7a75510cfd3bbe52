"""`beholde doctor`: one line per check, each with what to do when it fails.

Checks the settings, the database (reachable, schema up to date), each configured
platform's token (Telegram `getMe`, Slack `auth.test`, a Teams token from Entra ID) and the
steering-group targets. Tokens are sent to their platform and never printed. One function
per platform (`check_telegram`, `check_slack`, `check_teams`) so that a transport's own
`check_token` can take its place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from pydantic import ValidationError

from bot import platform_forms as forms
from bot.i18n import t
from bot.settings import Settings, cli_language, explain
from storage.db import Database, alembic_config, safe_url

TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail | skip
    key: str  # text in bot/texts/ops.*.yaml
    values: dict[str, Any] = field(default_factory=dict)

    def line(self, lang: str) -> str:
        mark = t(lang, f"ops.doctor.status.{self.status}")
        return f"{mark:<6} {self.name}: {t(lang, self.key, **self.values)}"


def check_database(settings: Settings) -> list[Check]:
    from alembic.script import ScriptDirectory

    where = safe_url(settings.database_url)
    db = Database(settings.database_url)
    try:
        db.ping()
        have = db.stored_revisions() or set()
    except Exception as error:
        return [
            Check(
                "database",
                "fail",
                "ops.doctor.db_unreachable",
                {"url": where, "error": type(error).__name__},
            )
        ]
    finally:
        db.dispose()
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    checks = [Check("database", "ok", "ops.doctor.db_ok", {"url": where})]
    if have == heads:
        checks.append(
            Check("schema", "ok", "ops.doctor.schema_ok", {"rev": ",".join(sorted(have))})
        )
    else:
        checks.append(
            Check("schema", "fail", "ops.doctor.schema_old", {"rev": ",".join(sorted(have)) or "-"})
        )
    return checks


async def _json(method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.request(method, url, **kwargs) as response,
    ):
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = {}
        return response.status, body if isinstance(body, dict) else {}


async def check_telegram(settings: Settings) -> Check:
    """getMe with the configured token: does Telegram accept it?"""
    if settings.telegram_token is None:
        return Check("telegram", "skip", "ops.doctor.not_configured")
    token = settings.telegram_token.get_secret_value()
    if not forms.TELEGRAM_TOKEN.fullmatch(token):
        return Check("telegram", "fail", "ops.doctor.telegram_malformed")
    try:
        status, body = await _json("GET", f"{settings.telegram_api_url}{token}/getMe")
    except (aiohttp.ClientError, TimeoutError) as error:
        return Check(
            "telegram",
            "fail",
            "ops.doctor.unreachable",
            {"setting": "BEHOLDE_TELEGRAM_API_URL", "error": type(error).__name__},
        )
    if status == 200 and body.get("ok"):
        name = (body.get("result") or {}).get("username", "?")
        return Check("telegram", "ok", "ops.doctor.telegram_ok", {"name": name})
    return Check(
        "telegram",
        "fail",
        "ops.doctor.token_rejected",
        {"setting": "BEHOLDE_TELEGRAM_TOKEN", "status": f"HTTP {status}"},
    )


async def check_slack(settings: Settings) -> Check:
    """auth.test with the configured bot token: does Slack accept it?"""
    if settings.slack_bot_token is None:
        return Check("slack", "skip", "ops.doctor.not_configured")
    token = settings.slack_bot_token.get_secret_value()
    if not token.startswith("xoxb-"):
        return Check("slack", "fail", "ops.doctor.slack_malformed")
    try:
        status, body = await _json(
            "POST",
            f"{settings.slack_api_url}auth.test",
            headers={"Authorization": f"Bearer {token}"},
        )
    except (aiohttp.ClientError, TimeoutError) as error:
        return Check(
            "slack",
            "fail",
            "ops.doctor.unreachable",
            {"setting": "BEHOLDE_SLACK_API_URL", "error": type(error).__name__},
        )
    if status == 200 and body.get("ok"):
        return Check("slack", "ok", "ops.doctor.slack_ok", {"team": body.get("team", "?")})
    return Check(
        "slack",
        "fail",
        "ops.doctor.token_rejected",
        {
            "setting": "BEHOLDE_SLACK_BOT_TOKEN",
            "status": str(body.get("error") or f"HTTP {status}")[:60],
        },
    )


async def check_teams(settings: Settings) -> Check:
    """A token from Microsoft Entra ID with the app's client credentials (MSAL, the same
    authority and scope the Teams transport uses): are the app id, secret and tenant right?"""
    if not settings.teams_app_id:
        return Check("teams", "skip", "ops.doctor.not_configured")
    if settings.teams_app_password is None or not settings.teams_tenant_id:
        return Check("teams", "fail", "ops.doctor.teams_incomplete")
    try:
        result = await asyncio.to_thread(_teams_token, settings)
    except Exception as error:  # MSAL: unreachable, or no such tenant (its discovery failed)
        return Check(
            "teams",
            "fail",
            "ops.doctor.unreachable",
            {"setting": "BEHOLDE_TEAMS_TENANT_ID", "error": type(error).__name__},
        )
    if result.get("access_token"):
        return Check("teams", "ok", "ops.doctor.teams_ok", {"tenant": settings.teams_tenant_id})
    code = str(result.get("error") or "?")[:40]
    described = str(result.get("error_description") or "").split(":")[0].split()[:1]
    return Check(
        "teams", "fail", "ops.doctor.teams_rejected", {"error": " ".join([code, *described])}
    )


TEAMS_SCOPE = "https://api.botframework.com/.default"  # as bot/transports/teams_sender.py


def _teams_token(settings: Settings) -> dict[str, Any]:
    """MSAL's answer to a client-credentials request (a dict with `access_token` or
    `error`); the secret goes to Entra ID only."""
    import msal
    from msal.exceptions import MsalServiceError

    assert settings.teams_app_password is not None
    try:
        app = msal.ConfidentialClientApplication(
            settings.teams_app_id,
            authority=f"https://login.microsoftonline.com/{settings.teams_tenant_id}",
            client_credential=settings.teams_app_password.get_secret_value(),
        )
        return dict(app.acquire_token_for_client(scopes=[TEAMS_SCOPE]) or {})
    except MsalServiceError as error:  # MSAL raises some refusals instead of returning them
        return {"error": error._error or str(error.args[0] if error.args else "?")}


def _teams_conversation(target: str) -> bool:
    return target.startswith("19:")  # Teams' channel and group chat ids


# (platform, setting, whether a value looks right, severity when not, text when not, length shown)
STEERING_TARGETS: tuple[tuple[str, str, Callable[[str], bool], str, str, int], ...] = (
    ("telegram", "telegram_steering_chat",
     lambda v: forms.TELEGRAM_STEERING_CHAT.fullmatch(v) is not None,
     "fail", "ops.doctor.steering_telegram_bad", 40),
    ("slack", "slack_steering_channel",
     lambda v: forms.SLACK_CHANNEL_ID.fullmatch(v) is not None,
     "fail", "ops.doctor.steering_slack_bad", 40),
    ("teams", "teams_steering_conversation", _teams_conversation,
     "warn", "ops.doctor.steering_teams_odd", 60),
)  # fmt: skip


def check_steering(settings: Settings) -> list[Check]:
    """Where summaries and digests go: a Telegram group id, a Slack channel id, a Teams
    channel or group chat id."""
    checks = []
    for platform, setting, looks_right, severity, bad, shown in STEERING_TARGETS:
        target = getattr(settings, setting)
        if target is None:
            continue
        good = looks_right(target.strip())
        checks.append(
            Check(
                f"steering {platform}",
                "ok" if good else severity,
                "ops.doctor.steering_ok" if good else bad,
                {"target": target[:shown]},
            )
        )
    if not checks:
        checks.append(Check("steering", "warn", "ops.doctor.steering_none"))
    return checks


PLATFORM_CHECKS: tuple[Callable[[Settings], Any], ...] = (check_telegram, check_slack, check_teams)


def run_checks(load: Callable[[], Settings]) -> tuple[list[Check], str]:
    """Every check, in order; the language is the configured one (BEHOLDE_LANGUAGE or
    bokmål when the settings cannot be read)."""
    try:
        settings = load()
    except ValidationError as error:
        return [
            Check("settings", "fail", "ops.doctor.settings_bad", {"problems": explain(error)})
        ], cli_language()
    checks = [Check("settings", "ok", "ops.doctor.settings_ok")]
    checks += check_database(settings)

    async def platforms() -> list[Check]:
        return list(await asyncio.gather(*(check(settings) for check in PLATFORM_CHECKS)))

    checks += asyncio.run(platforms())
    checks += check_steering(settings)
    return checks, settings.language
