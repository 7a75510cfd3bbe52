"""`beholde invite`: one working deep link per rostered person without Telegram."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from bot.app import build
from bot.cli import app
from bot.settings import Settings
from storage import people
from storage.models import InviteCode

LINK = re.compile(r"https://t\.me/beholde_salten_bot\?start=([A-Za-z0-9_-]{22})")


def test_invite_prints_one_single_use_link_per_person_without_telegram(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'invite.db'}"
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", url)
    monkeypatch.delenv("BEHOLDE_TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("BEHOLDE_TELEGRAM_BOT_USERNAME", raising=False)
    engine = build(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    now = engine.clock()
    with engine.db.transaction() as session:
        people.create_person(session, "Kari", now, municipality="fauske")
        people.create_person(session, "Ola", now, municipality="bodo")
        on_telegram = people.create_person(session, "Per", now, municipality="bodo")
        people.bind_address(session, on_telegram, "telegram", "42", now)

    runner = CliRunner()
    result = runner.invoke(app, ["invite", "--bot-username", "@beholde_salten_bot"])
    assert result.exit_code == 0, result.output
    codes = LINK.findall(result.output)
    assert len(codes) == 2 and "Per" not in result.output
    assert "Ola\tBodø\thttps://t.me/" in result.output  # the name, not the code "bodo"
    assert "2 lenker, hver gyldig" in " ".join(result.output.split())

    only = runner.invoke(
        app, ["invite", "--municipality", "Fauske", "--bot-username", "beholde_salten_bot"]
    )
    assert only.exit_code == 0 and "Kari" in only.output and "Ola" not in only.output
    # The leader is told that Kari's first link, printed above, is dead now.
    assert "tidligere, virker ikke lenger" in " ".join(only.output.split())
    new_code = LINK.findall(only.output)[0]
    with engine.db.transaction() as session:
        kari_codes = session.query(InviteCode).filter(InviteCode.used_at.is_(None)).count()
        assert kari_codes == 2  # Kari's first link was replaced, Ola's still stands
        stored = {c.code_hash for c in session.query(InviteCode)}
        assert new_code not in stored and people.hash_code(new_code) in stored
        person, status = people.redeem_invite_code(session, new_code, now)
        assert status == "ok" and person is not None and person.name == "Kari"
        assert people.redeem_invite_code(session, new_code, now)[1] == "used"

    unknown = runner.invoke(app, ["invite", "--municipality", "Atlantis", "--bot-username", "b"])
    assert unknown.exit_code == 1 and "Ukjent kommune: Atlantis" in unknown.output
    nameless = runner.invoke(app, ["invite"])
    assert nameless.exit_code == 2 and "--bot-username" in nameless.output
    engine.db.dispose()
