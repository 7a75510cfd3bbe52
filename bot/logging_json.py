"""`BEHOLDE_LOG_FORMAT=json`: one JSON object per line, for a log collector.

Each line has time, level, logger and message (and the exception, if any). Whatever the
format, every configured secret (tokens, signing secret, planning secret, the database
password) is replaced by `***` before a line is written — also inside tracebacks, where
libraries like to quote the token they rejected. beholde's own log lines never hold an
answer together with a person; this formatter adds no context that could.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from bot.settings import Settings

MASK = "***"


def secrets_of(settings: Settings) -> list[str]:
    """The values that must never appear in a log line."""
    values = [
        secret.get_secret_value()
        for secret in (
            settings.telegram_token,
            settings.telegram_webhook_secret,
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            settings.planning_secret,
        )
        if secret is not None
    ]
    if settings.telegram_token is not None:  # the part after the colon is the secret one
        values.append(settings.telegram_token.get_secret_value().partition(":")[2])
    try:
        password = make_url(settings.database_url).password
    except Exception:
        password = None
    if password:
        values.append(str(password))
    return sorted((v for v in values if len(v) >= 6), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


class RedactingFormatter(logging.Formatter):
    """The usual text format, with secrets masked."""

    def __init__(self, secrets: list[str], fmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, secrets masked."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, ensure_ascii=False), self.secrets)


def apply(settings: Settings) -> None:
    """Give every root handler the configured format, secrets masked."""
    secrets = secrets_of(settings)
    formatter: logging.Formatter = (
        JsonFormatter(secrets) if settings.log_format == "json" else RedactingFormatter(secrets)
    )
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
