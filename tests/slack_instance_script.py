"""One real `beholde serve` instance with Slack, for the two-instance budget test.

Usage: python tests/slack_instance_script.py --open-per-second N

Settings come from the environment as in production (BEHOLDE_DATABASE_URL,
BEHOLDE_SLACK_BOT_TOKEN, BEHOLDE_SLACK_API_URL pointing at a fake, …). Only Slack's
`conversations.open` budget is changed, to N calls per second instead of 50 a minute, so a
test sees the shared window fill in seconds rather than minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build, setup_logging
from bot.pacing import Pacer
from bot.serve import Service, install_features, run_service
from bot.settings import Settings
from bot.transports.slack import SlackTransport


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open-per-second", type=int, default=5)
    options = parser.parse_args()
    settings = Settings()
    setup_logging(settings.log_level)
    service = Service(settings, build(settings))
    per_second = options.open_per_second

    def install_with_fast_tiers(svc: Service) -> list[str]:
        installed = install_features(svc)
        transport = svc.transports["slack"]
        assert isinstance(transport, SlackTransport)
        transport.sender.methods = Pacer(
            per_chat=lambda m: [(per_second, 1.0)] if m == "conversations.open" else []
        )
        return installed

    import bot.serve

    bot.serve.install_features = install_with_fast_tiers  # type: ignore[assignment]
    print(f"worker {service.worker_id}", flush=True)
    asyncio.run(run_service(service, settings.http_host, settings.http_port))


if __name__ == "__main__":
    main()
