"""One `beholde serve` instance with a recording fake transport, for the multi-process tests.

Usage: python tests/instance_script.py RECORD_FILE [--offset SECONDS] [--delay SECONDS]

Settings come from the environment (BEHOLDE_DATABASE_URL, BEHOLDE_HTTP_PORT, …) as in
production. Every message "sent" is appended to RECORD_FILE as one line
`chat_id<TAB>text<TAB>unix time`, flushed and fsynced before the send returns — so the file
is what the platform saw, even if this process is killed with SIGKILL right after.
`--offset` shifts the service's clock (the injected clock) so a restarted instance can be
"later" than the leases of the killed one.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build, setup_logging
from bot.ports import Address, OutgoingMessage
from bot.serve import Service, run_service
from bot.settings import Settings


class RecordingTransport:
    """A platform that writes down what it was asked to send."""

    platform = "test"

    def __init__(self, path: Path, delay: float) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.delay = delay
        self.count = 0

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        first = message.text.splitlines()[0]
        line = f"{address.chat_id}\t{first}\t{time.time():.6f}\n".encode()
        os.write(self.fd, line)
        os.fsync(self.fd)
        self.count += 1
        return str(self.count)

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        return "0"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("record", type=Path)
    parser.add_argument("--offset", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    options = parser.parse_args()
    settings = Settings()
    setup_logging(settings.log_level)
    offset = dt.timedelta(seconds=options.offset)
    engine = build(settings, clock=lambda: dt.datetime.now(dt.UTC) + offset)
    service = Service(settings, engine)
    service.transports["test"] = RecordingTransport(options.record, options.delay)
    print(f"worker {service.worker_id}", flush=True)
    asyncio.run(run_service(service, settings.http_host, settings.http_port))


if __name__ == "__main__":
    main()
