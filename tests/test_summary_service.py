"""The summary in the service: posted when a round closes, delivered to the steering channel;
the `beholde summary` command prints and exports."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.conversation import Conversation
from bot.outbox import deliver_due
from bot.ports import Address, OutgoingMessage
from bot.serve import Service
from bot.settings import Settings
from bot.summaries import install
from storage.db import Database
from storage.models import OutboxMessage
from surveys.definition import Survey
from surveys.synthetic import survey_round
from tests.summary_support import EXP19, IMPORTANCE, add_round, store_frame


class ChannelRecorder:
    """A transport that records what reaches the steering channel."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.channel: list[OutgoingMessage] = []
        self.direct: list[tuple[Address, OutgoingMessage]] = []

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        self.direct.append((address, message))
        return "d"

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        self.channel.append(message)
        return f"c{len(self.channel)}"


def test_payload_carries_the_chart() -> None:
    message = OutgoingMessage("hei", image=b"\x89PNG...", image_name="x.png")
    back = OutgoingMessage.from_payload(json.loads(json.dumps(message.to_payload())))
    assert back.image == b"\x89PNG..." and back.image_name == "x.png"
    assert OutgoingMessage.from_payload(OutgoingMessage("a").to_payload()).image is None


def test_installer_needs_a_steering_channel(engine: Conversation) -> None:
    service = Service(Settings(database_url="sqlite://"), engine)
    service.transports["slack"] = ChannelRecorder("slack")
    assert install(service) is False
    assert engine.round_closed_hooks == []


async def test_round_close_posts_summary_with_chart(engine: Conversation, survey: Survey) -> None:
    settings = Settings(
        database_url="sqlite://", slack_steering_channel="C42", telegram_steering_chat="-100"
    )
    service = Service(settings, engine)
    slack, telegram = ChannelRecorder("slack"), ChannelRecorder("telegram")
    service.transports.update(slack=slack, telegram=telegram)
    assert install(service) is True
    round_ = engine.open_round()
    frame = survey_round(survey, round_id=round_.id, n=40, quit_share=0.4, position_share=0.6,
                         experienced=EXP19, importance=IMPORTANCE, seed=3)  # fmt: skip
    store_frame(engine.db, frame, round_.id)
    engine.close_round()
    with engine.db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "steering"))
        assert sorted((r.platform, r.chat_id) for r in rows) == [
            ("slack", "C42"), ("slack", "C42"), ("telegram", "-100"), ("telegram", "-100")
        ]  # fmt: skip
    stats = await deliver_due(engine.db, service.transports, engine.clock(), "t")
    assert stats.sent == 4 and stats.failed == 0
    for transport in (slack, telegram):
        assert transport.direct == []
        chart, bullets = transport.channel
        assert chart.image is not None and chart.image.startswith(b"\x89PNG")
        assert len(chart.text) <= 1024 and chart.text.startswith("📊 Pulsrunde")
        assert len(bullets.text) <= 3000 and "Har vurdert å slutte: 40 %" in bullets.text
    # Closing hooks run once per round; a second run adds nothing (too few new answers).
    engine.run_round_closed_hooks(round_.id)
    with engine.db.transaction() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 4


def test_cli_prints_and_exports(
    tmp_path: Path, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    db.upgrade()
    for number, seed in ((1, 1), (2, 2)):
        round_id = add_round(db, number)
        store_frame(db, survey_round(survey, round_id=round_id, n=30, quit_share=0.4,
                                     position_share=0.6, experienced=EXP19,
                                     importance=IMPORTANCE, seed=seed), round_id)  # fmt: skip
    db.dispose()
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", url)
    monkeypatch.delenv("BEHOLDE_SLACK_STEERING_CHANNEL", raising=False)
    monkeypatch.delenv("BEHOLDE_TELEGRAM_STEERING_CHAT", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    runner = CliRunner()
    xlsx, csv = tmp_path / "s.xlsx", tmp_path / "csv"
    result = runner.invoke(
        app, ["summary", "--language", "en", "--xlsx", str(xlsx), "--csv", str(csv)]
    )
    assert result.exit_code == 0, result.output
    assert "Pulse round 2" in result.output and "since round 1" in result.output
    book = openpyxl.load_workbook(xlsx)
    assert {"overview", "factors", "changes", "considered_quitting", "participation"} <= set(
        book.sheetnames
    )
    assert book["factors"].max_row == 11  # header + ten factors
    assert len(list(csv.glob("*.csv"))) >= 5
    refused = runner.invoke(app, ["summary", "--round", "1", "--post"])
    assert refused.exit_code == 1 and "ingen kanal for" in refused.output
    missing = runner.invoke(app, ["summary", "--round", "9"])
    assert missing.exit_code == 1 and "Det finnes ingen runde 9." in missing.output
    missing_nn = runner.invoke(app, ["summary", "--round", "9", "--language", "nn"])
    assert missing_nn.exit_code == 1 and "Det finst ingen runde 9." in missing_nn.output
    missing_en = runner.invoke(app, ["summary", "--round", "9", "--language", "en"])
    assert missing_en.exit_code == 1 and "No round 9." in missing_en.output
