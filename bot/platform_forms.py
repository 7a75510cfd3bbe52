"""What a token or a steering target looks like on each platform, said once.

`beholde serve` refuses a setting that does not match (bot/transports/*.py `settings_problem`)
and `beholde doctor` reports it (bot/doctor.py); both read these, so the two never disagree.
Kept free of the platform libraries, which doctor and the CLI need not load.
"""

from __future__ import annotations

import re

TELEGRAM_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
TELEGRAM_STEERING_CHAT = re.compile(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31}")
SLACK_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{8,}")
