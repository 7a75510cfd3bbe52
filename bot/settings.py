"""Configuration: one `.env` file or environment variables, all prefixed `BEHOLDE_`.

Every setting is documented in `deploy/beholde.env.example`. A wrong value stops the service
at start with a message naming the setting and what is expected (see `explain`), in the
language of BEHOLDE_LANGUAGE (bokmål when that is unset or itself wrong). Validators raise
`SettingError` with a catalogue key (bot/texts/ops.*.yaml), never an English sentence.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingError(ValueError):
    """A setting's problem as a catalogue key (`ops.settings.*`) and its values; `setting`
    names it when the check spans several settings (a model validator has no field)."""

    def __init__(self, key: str, setting: str | None = None, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.setting = setting
        self.values = values


def data_dir() -> Path:
    """`$XDG_DATA_HOME/beholde` (normally `~/.local/share/beholde`)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "beholde"


def default_database_url() -> str:
    """SQLite under the user's data directory: `~/.local/share/beholde/beholde.db`."""
    return f"sqlite:///{data_dir() / 'beholde.db'}"


class Settings(BaseSettings):
    """All settings of one beholde instance."""

    model_config = SettingsConfigDict(
        env_prefix="BEHOLDE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(default_factory=default_database_url)
    organisation: str = "læringsnettverket"
    language: str = "nb"
    timezone: str = "Europe/Oslo"
    k_anonymity: int = Field(default=5, ge=3, le=100)
    comment_threshold: int = Field(default=10, ge=3, le=1000)
    factors_per_pulse: int = Field(default=3, ge=1, le=10)
    round_days: int = Field(default=5, ge=1, le=60)
    municipalities: str = ""  # comma-separated; empty means the nine Salten municipalities
    survey_file: Path | None = None
    invite_valid_days: int = Field(default=30, ge=1, le=365)
    # Orders people for matrix sampling; outside the database on purpose. Unset: a key file
    # in the data directory. Several instances on one PostgreSQL must share the same value.
    planning_secret: SecretStr | None = None
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object per line)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    # Where people reach `beholde serve` (behind the municipality's reverse proxy): the
    # dashboard's one-time links start with it. Unset: http://http_host:http_port.
    public_url: str | None = None

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_steering_chat: str | None = None
    telegram_bot_username: str | None = None  # for invite links; asked from Telegram if unset
    telegram_webhook_url: str | None = None  # set: webhook mode; unset: long polling
    telegram_webhook_secret: SecretStr | None = None  # 16-256 of A-Z a-z 0-9 _ -
    telegram_max_per_second: int = Field(default=30, ge=1, le=1000)
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_steering_channel: str | None = None
    # Microsoft Teams (issue 11): the Entra app registration of the bot; see the README.
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None  # the client secret; never logged
    teams_tenant_id: str | None = None
    teams_steering_conversation: str | None = None  # a channel or group chat id (19:…)
    teams_service_url: str = "https://smba.trafficmanager.net/emea/"  # for the steering post
    teams_privacy_url: str = "https://example.kommune.no/beholde/personvern"
    teams_terms_url: str = "https://example.kommune.no/beholde/vilkar"

    # Learning network and scheduler (issue 5; see deploy/beholde.env.example).
    scheduler: bool = True
    work_hours: str = "08:00-20:00"
    reminder_time: str = "09:00"
    task_reminder_days: str = "7,1,0"
    gathering_reminder_days: str = "14,2,0"
    pulse_auto: bool = True
    pulse_weekday: int = Field(default=1, ge=0, le=6)  # 0 = Monday, 1 = Tuesday
    pulse_time: str = "09:00"
    pulse_every_weeks: int = Field(default=2, ge=1, le=12)
    # Weekly digest to the steering group (task status, gatherings, participation).
    digest: bool = True
    digest_weekday: int = Field(default=0, ge=0, le=6)  # 0 = Monday
    digest_time: str = "08:00"

    @field_validator("work_hours")
    @classmethod
    def _work_hours(cls, value: str) -> str:
        from surveys.network import Window

        try:
            return str(Window.parse(value))
        except ValueError:
            raise SettingError("ops.settings.work_hours") from None

    @field_validator("reminder_time", "pulse_time", "digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        from surveys.network import parse_clock

        parsed = parse_clock(value)
        if parsed is None:
            raise SettingError("ops.settings.clock_time")
        return f"{parsed:%H:%M}"

    @field_validator("task_reminder_days", "gathering_reminder_days")
    @classmethod
    def _day_list(cls, value: str) -> str:
        try:
            days = [int(v) for v in value.replace(" ", "").split(",") if v]
        except ValueError:
            raise SettingError("ops.settings.day_list") from None
        if not days or any(d < 0 or d > 90 for d in days):
            raise SettingError("ops.settings.day_list")
        return ",".join(str(d) for d in days)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("nb", "en", "nn"):
            raise SettingError("ops.settings.language")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingError("ops.settings.timezone") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql", "postgres:")):
            raise SettingError("ops.settings.database_url")
        if value.startswith("sqlite:"):
            from sqlalchemy.engine import make_url

            database = make_url(value).database
            if database and database != ":memory:":
                folder = Path(database).expanduser().parent
                # Only beholde's own data folder is made on demand; a typo elsewhere is not.
                if not folder.is_dir() and folder != data_dir():
                    raise SettingError("ops.settings.database_folder", folder=str(folder))
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingError("ops.settings.log_level")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.lower()
        if value not in ("text", "json"):
            raise SettingError("ops.settings.log_format")
        return value

    @model_validator(mode="after")
    def _telegram_webhook(self) -> Settings:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise SettingError("ops.settings.webhook_secret_missing", "telegram_webhook_secret")
        if self.telegram_webhook_url and not self.telegram_webhook_url.startswith("https://"):
            raise SettingError("ops.settings.webhook_https", "telegram_webhook_url")
        secret = self.telegram_webhook_secret
        if secret is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", secret.get_secret_value()
        ):
            raise SettingError("ops.settings.webhook_secret_form", "telegram_webhook_secret")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def municipality_names(self) -> list[str]:
        return [m.strip() for m in self.municipalities.split(",") if m.strip()]


def cli_language() -> str:
    """The language for messages before the settings are read: BEHOLDE_LANGUAGE, else nb."""
    value = (os.environ.get("BEHOLDE_LANGUAGE") or "").strip().lower()
    return value if value in ("nb", "nn", "en") else "nb"


# pydantic's own checks, by error type: the catalogue key and the context values it needs.
BUILT_IN = {
    "greater_than_equal": ("ops.settings.at_least", "ge"),
    "greater_than": ("ops.settings.more_than", "gt"),
    "less_than_equal": ("ops.settings.at_most", "le"),
    "less_than": ("ops.settings.less_than", "lt"),
    "int_parsing": ("ops.settings.whole_number", None),
    "int_from_float": ("ops.settings.whole_number", None),
    "bool_parsing": ("ops.settings.yes_no", None),
}


def _problem_text(problem: Any, lang: str) -> tuple[str, str]:
    """(the setting's name, what is wrong with it) for one of pydantic's errors."""
    from bot.i18n import t

    loc = "_".join(str(p) for p in problem.get("loc", ()))
    error = (problem.get("ctx") or {}).get("error")
    if isinstance(error, SettingError):
        return "BEHOLDE_" + (error.setting or loc).upper(), t(lang, error.key, **error.values)
    key, limit = BUILT_IN.get(problem.get("type", ""), ("ops.settings.invalid", None))
    values = {"limit": (problem.get("ctx") or {}).get(limit)} if limit else {}
    return "BEHOLDE_" + loc.upper(), t(lang, key, **values)


def explain(error: ValidationError, lang: str | None = None) -> str:
    """A message for the IT person: which setting, and what is expected (never the value,
    which may be a token)."""
    from bot.i18n import t

    lang = lang or cli_language()
    lines = [t(lang, "ops.settings.head")]
    for problem in error.errors():
        name, text = _problem_text(problem, lang)
        lines.append(f"  {name}: {text}")
    lines.append(t(lang, "ops.settings.foot"))
    return "\n".join(lines)
