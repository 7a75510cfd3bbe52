"""The Teams app package: manifest from settings and catalogue, icons, the CLI command."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from bot.conversation import Conversation
from bot.settings import Settings
from bot.teams_package import PLACEHOLDER_APP_ID, english, manifest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "teams"
APP_ID = "0f3c2a9e-1111-4222-8333-944445555666"


def test_beholde_teams_package_writes_the_zip_with_the_app_id(
    tmp_path: Path, engine: Conversation
) -> None:
    out = tmp_path / "beholde.zip"
    result = CliRunner().invoke(
        app,
        ["teams", "package", "--out", str(out)],
        env={
            "BEHOLDE_TEAMS_APP_ID": APP_ID,
            "BEHOLDE_TEAMS_PRIVACY_URL": "https://bodo.kommune.no/personvern",
            "BEHOLDE_TEAMS_TERMS_URL": "https://bodo.kommune.no/vilkar",
            "BEHOLDE_DATABASE_URL": "sqlite://",
        },
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "color.png",
            "en-us.json",
            "manifest.json",
            "outline.png",
        ]
        data = json.loads(archive.read("manifest.json"))
        en = json.loads(archive.read("en-us.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert data["id"] == APP_ID and data["bots"][0]["botId"] == APP_ID
    assert data["developer"]["privacyUrl"] == "https://bodo.kommune.no/personvern"
    assert data["developer"]["termsOfUseUrl"] == "https://bodo.kommune.no/vilkar"
    assert data["bots"][0]["scopes"] == ["personal", "team"]
    assert color.size == (192, 192) and outline.size == (32, 32)
    # The outline icon is white on transparency only.
    assert {(r, g, b) for r, g, b, a in outline.convert("RGBA").getdata() if a} <= {(255, 255, 255)}
    # Every command in the menus, in both languages, is one the chat understands.
    for i, command_list in enumerate(data["bots"][0]["commandLists"]):
        assert len(command_list["commands"]) <= 10
        for j, command in enumerate(command_list["commands"]):
            assert engine.commands.get(command["title"]) is not None
            english_title = en[f"bots[0].commandLists[{i}].commands[{j}].title"]
            assert engine.commands.get(english_title) is not None
            assert (
                engine.commands.canonical[english_title]
                == engine.commands.canonical[command["title"]]
            )


def test_the_package_needs_an_app_id(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["teams", "package", "--out", str(tmp_path / "x.zip")],
        env={"BEHOLDE_TEAMS_APP_ID": "", "BEHOLDE_DATABASE_URL": "sqlite://"},
    )
    assert result.exit_code == 2 and "BEHOLDE_TEAMS_APP_ID" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_deploy_teams_holds_what_the_generator_writes() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    privacy = settings.teams_privacy_url
    expected = manifest(
        PLACEHOLDER_APP_ID,
        privacy,
        settings.teams_terms_url,
        settings.organisation,
        privacy.rsplit("/", 1)[0],
    )
    assert json.loads((DEPLOY / "manifest.json").read_text("utf-8")) == expected
    assert json.loads((DEPLOY / "en-us.json").read_text("utf-8")) == english(settings.organisation)


def test_serve_installs_teams_only_when_configured(engine: Conversation) -> None:
    import pytest

    from bot.serve import Service
    from bot.transports import teams

    plain = Service(Settings(_env_file=None, database_url="sqlite://"), engine)  # type: ignore[call-arg]
    assert teams.install(plain) is False
    assert teams.PATH not in {r.resource.canonical for r in plain.web.router.routes()}
    half = Service(
        Settings(_env_file=None, database_url="sqlite://", teams_app_id=APP_ID),  # type: ignore[call-arg]
        engine,
    )
    with pytest.raises(SystemExit, match="BEHOLDE_TEAMS_APP_PASSWORD"):
        teams.install(half)
    full = Service(
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url="sqlite://",
            teams_app_id=APP_ID,
            teams_app_password="s3cret-value",
            teams_tenant_id="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        ),
        engine,
    )
    assert teams.install(full) is True
    assert teams.PATH in {r.resource.canonical for r in full.web.router.routes()}
    assert "teams" in full.transports
    assert "s3cret-value" not in repr(full.settings)
