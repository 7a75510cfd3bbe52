"""Configuration: one `.env` file or environment variables, all prefixed `BEHOLDE_`.

Every setting is documented in `deploy/beholde.env.example`. A wrong value stops the service
at start with a message naming the setting and what is expected (see `explain`), in the
language of BEHOLDE_LANGUAGE (bokmål when that is unset or itself wrong). Validators raise
`SettingError` with a catalogue key (bot/texts/ops.*.yaml), never an English sentence.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "BEHOLDE_"
ENV_FILE = ".env"


class Secret:
    """A value that must not show in a repr, a log line or a traceback (a token, a key)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


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


class InvalidSettings(ValueError):
    """Every problem found in the configuration at once: (field, catalogue key, values)."""

    def __init__(self, problems: list[tuple[str, str, dict[str, Any]]]) -> None:
        super().__init__(", ".join(f"{name}: {key}" for name, key, _ in problems))
        self.problems = problems


@dataclass(init=False)
class Settings:
    """All settings of one beholde instance.

    `Settings(**values)` reads the rest from the environment (`BEHOLDE_<NAME>`, any case),
    then from `./.env`; `_env_file=None` skips the file. Plain dataclasses and our own checks
    rather than pydantic-settings: pydantic alone is ~6 MB of an idle `beholde serve`
    (issue 13), and these settings are flat strings, numbers and switches.
    """

    database_url: str = field(default_factory=default_database_url)
    organisation: str = "læringsnettverket"
    language: str = "nb"
    timezone: str = "Europe/Oslo"
    k_anonymity: int = field(default=5, metadata={"ge": 3, "le": 100})
    comment_threshold: int = field(default=10, metadata={"ge": 3, "le": 1000})
    factors_per_pulse: int = field(default=3, metadata={"ge": 1, "le": 10})
    round_days: int = field(default=5, metadata={"ge": 1, "le": 60})
    municipalities: str = ""  # comma-separated; empty means the nine Salten municipalities
    survey_file: Path | None = None
    invite_valid_days: int = field(default=30, metadata={"ge": 1, "le": 365})
    # Orders people for matrix sampling; outside the database on purpose. Unset: a key file
    # in the data directory. Several instances on one PostgreSQL must share the same value.
    planning_secret: Secret | None = None
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object per line)
    http_host: str = "127.0.0.1"
    http_port: int = field(default=8080, metadata={"ge": 1, "le": 65535})
    # Where people reach `beholde serve` (behind the municipality's reverse proxy): the
    # dashboard's one-time links start with it. Unset: http://http_host:http_port.
    public_url: str | None = None

    telegram_token: Secret | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_steering_chat: str | None = None
    telegram_bot_username: str | None = None  # for invite links; asked from Telegram if unset
    telegram_webhook_url: str | None = None  # set: webhook mode; unset: long polling
    telegram_webhook_secret: Secret | None = None  # 16-256 of A-Z a-z 0-9 _ -
    telegram_max_per_second: int = field(default=30, metadata={"ge": 1, "le": 1000})
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_steering_channel: str | None = None
    # Microsoft Teams (issue 11): the Entra app registration of the bot; see the README.
    teams_app_id: str | None = None
    teams_app_password: Secret | None = None  # the client secret; never logged
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
    pulse_weekday: int = field(default=1, metadata={"ge": 0, "le": 6})  # 0 = Monday, 1 = Tuesday
    pulse_time: str = "09:00"
    pulse_every_weeks: int = field(default=2, metadata={"ge": 1, "le": 12})
    # Weekly digest to the steering group (task status, gatherings, participation).
    digest: bool = True
    digest_weekday: int = field(default=0, metadata={"ge": 0, "le": 6})  # 0 = Monday
    digest_time: str = "08:00"

    def __init__(self, _env_file: str | Path | None = ENV_FILE, **values: Any) -> None:
        names = {f.name: f for f in fields(self)}
        raw = {**_from_env_file(_env_file, names), **_from_environ(names), **values}
        problems: list[tuple[str, str, dict[str, Any]]] = []
        for name, spec in names.items():
            try:
                value = _convert(spec, raw[name]) if name in raw else _default(spec)
                check = CHECKS.get(name)
                object.__setattr__(self, name, check(value) if check else value)
            except SettingError as error:
                problems.append((error.setting or name, error.key, error.values))
        if not problems:
            try:
                self._telegram_webhook()
            except SettingError as error:
                problems.append((error.setting or "", error.key, error.values))
        if problems:
            raise InvalidSettings(problems)

    def _telegram_webhook(self) -> None:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise SettingError("ops.settings.webhook_secret_missing", "telegram_webhook_secret")
        if self.telegram_webhook_url and not self.telegram_webhook_url.startswith("https://"):
            raise SettingError("ops.settings.webhook_https", "telegram_webhook_url")
        secret = self.telegram_webhook_secret
        if secret is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", secret.get_secret_value()
        ):
            raise SettingError("ops.settings.webhook_secret_form", "telegram_webhook_secret")

    def model_copy(self, update: dict[str, Any] | None = None) -> Settings:
        """A copy with some values changed, as they are (not read from the environment again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        copy = object.__new__(Settings)
        for name, value in {**values, **(update or {})}.items():
            object.__setattr__(copy, name, value)
        return copy

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def municipality_names(self) -> list[str]:
        return [m.strip() for m in self.municipalities.split(",") if m.strip()]


def _from_environ(names: dict[str, Any]) -> dict[str, Any]:
    """`BEHOLDE_<NAME>` in any case, as environment variables are written by hand."""
    out = {}
    for key, value in os.environ.items():
        name = key.lower().removeprefix(ENV_PREFIX.lower())
        if key.upper().startswith(ENV_PREFIX) and name in names:
            out[name] = value
    return out


def _from_env_file(path: str | Path | None, names: dict[str, Any]) -> dict[str, Any]:
    """The same names from a `.env` file (python-dotenv reads quotes, `export` and comments)."""
    if path is None or not Path(path).is_file():
        return {}
    from dotenv import dotenv_values

    out = {}
    for key, value in dotenv_values(path, encoding="utf-8").items():
        name = key.lower().removeprefix(ENV_PREFIX.lower())
        if value is not None and key.upper().startswith(ENV_PREFIX) and name in names:
            out[name] = value
    return out


def _default(spec: Any) -> Any:
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return spec.default


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})
_WHOLE = re.compile(r"[+-]?[0-9](?:_?[0-9])*(?:\.0*)?")


def _convert(spec: Any, value: Any) -> Any:
    """A value as written (text from the environment, or a Python value) in the field's type."""
    kind = str(spec.type)
    if value is None and kind.endswith("| None"):
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise SettingError("ops.settings.yes_no")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise SettingError("ops.settings.whole_number")
        if isinstance(value, str):
            if not _WHOLE.fullmatch(value.strip()):
                raise SettingError("ops.settings.whole_number")
            value = int(value.strip().split(".")[0])
        low, high = spec.metadata["ge"], spec.metadata["le"]
        if value < low:
            raise SettingError("ops.settings.at_least", limit=low)
        if value > high:
            raise SettingError("ops.settings.at_most", limit=high)
        return value
    if kind.startswith("Secret"):
        return value if isinstance(value, Secret) else Secret(str(value))
    if kind.startswith("Path"):
        return Path(value)
    if not isinstance(value, str):
        raise SettingError("ops.settings.invalid")
    return value


def _work_hours(value: str) -> str:
    from surveys.network import Window

    try:
        return str(Window.parse(value))
    except ValueError:
        raise SettingError("ops.settings.work_hours") from None


def _clock_time(value: str) -> str:
    from surveys.network import parse_clock

    parsed = parse_clock(value)
    if parsed is None:
        raise SettingError("ops.settings.clock_time")
    return f"{parsed:%H:%M}"


def _day_list(value: str) -> str:
    try:
        days = [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise SettingError("ops.settings.day_list") from None
    if not days or any(d < 0 or d > 90 for d in days):
        raise SettingError("ops.settings.day_list")
    return ",".join(str(d) for d in days)


def _language(value: str) -> str:
    if value not in ("nb", "en", "nn"):
        raise SettingError("ops.settings.language")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError("ops.settings.timezone") from None
    return value


def _database_url(value: str) -> str:
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


def _log_level(value: str) -> str:
    value = value.upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingError("ops.settings.log_level")
    return value


def _log_format(value: str) -> str:
    value = value.lower()
    if value not in ("text", "json"):
        raise SettingError("ops.settings.log_format")
    return value


# Each field's own check after its type (defaults are checked too): returns the value kept.
CHECKS: dict[str, Callable[[Any], Any]] = {
    "work_hours": _work_hours,
    "reminder_time": _clock_time,
    "pulse_time": _clock_time,
    "digest_time": _clock_time,
    "task_reminder_days": _day_list,
    "gathering_reminder_days": _day_list,
    "language": _language,
    "timezone": _timezone,
    "database_url": _database_url,
    "log_level": _log_level,
    "log_format": _log_format,
}


def cli_language() -> str:
    """The language for messages before the settings are read: BEHOLDE_LANGUAGE, else nb."""
    value = (os.environ.get("BEHOLDE_LANGUAGE") or "").strip().lower()
    return value if value in ("nb", "nn", "en") else "nb"


def explain(error: InvalidSettings, lang: str | None = None) -> str:
    """A message for the IT person: which setting, and what is expected (never the value,
    which may be a token)."""
    from bot.i18n import t

    lang = lang or cli_language()
    lines = [t(lang, "ops.settings.head")]
    for name, key, values in error.problems:
        lines.append(f"  {ENV_PREFIX}{name.upper()}: {t(lang, key, **values)}")
    lines.append(t(lang, "ops.settings.foot"))
    return "\n".join(lines)
