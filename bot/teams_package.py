"""The Teams app package: manifest, icons and the English localization, as one .zip.

An IT person uploads this package in the Teams admin center (or the Developer Portal). The
manifest is built here from the settings (app id, privacy and terms pages) and the text
catalogue (command list and descriptions in bokmål, with English as a localization file),
so the chat's commands and the menu Teams shows can never disagree. `deploy/teams/` holds
the same manifest for the placeholder app id, to read without running anything; a test
keeps it equal to what this module writes.

The icons are drawn here with Pillow: a 192×192 colour icon and a 32×32 white outline on
transparency, as Teams requires.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bot.i18n import t

SCHEMA_VERSION = "1.22"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{SCHEMA_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = (
    f"https://developer.microsoft.com/json-schemas/teams/v{SCHEMA_VERSION}"
    "/MicrosoftTeams.Localization.schema.json"
)
PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"
ACCENT = "#1F6F5C"
APP_VERSION = "1.0.0"
# (bokmål title, English title, text key). Teams shows at most 10 commands per scope.
PERSONAL = [
    ("puls", "pulse", "teams_cmd_puls"),
    ("pause", "pause", "teams_cmd_pause"),
    ("stopp", "stop", "teams_cmd_stopp"),
    ("meg", "me", "teams_cmd_meg"),
    ("slett", "delete", "teams_cmd_slett"),
    ("språk", "language", "teams_cmd_sprak"),
    ("hjelp", "help", "teams_cmd_hjelp"),
    ("runde", "round", "teams_cmd_runde"),
    ("samling", "gathering", "teams_cmd_samling"),
    ("oppgave", "task", "teams_cmd_oppgave"),
]
TEAM = [
    ("hjelp", "help", "teams_cmd_hjelp"),
    ("runde", "round", "teams_cmd_runde"),
    ("samling", "gathering", "teams_cmd_samling"),
    ("oppgave", "task", "teams_cmd_oppgave"),
    ("påminn", "remind", "teams_cmd_paminn"),
]
LISTS = (("personal", PERSONAL), ("team", TEAM))


def manifest(
    app_id: str, privacy_url: str, terms_url: str, organisation: str, website: str
) -> dict[str, Any]:
    """The manifest in bokmål (the default language)."""
    return {
        "$schema": SCHEMA,
        "manifestVersion": SCHEMA_VERSION,
        "version": APP_VERSION,
        "id": app_id,
        "developer": {
            "name": organisation[:32],
            "websiteUrl": website,
            "privacyUrl": privacy_url,
            "termsOfUseUrl": terms_url,
        },
        "name": {"short": "beholde", "full": f"beholde – {organisation}"[:100]},
        "description": {"short": t("nb", "teams_app_short"), "full": t("nb", "teams_app_full")},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "localizationInfo": {
            "defaultLanguageTag": "nb-no",
            "additionalLanguages": [{"languageTag": "en-us", "file": "en-us.json"}],
        },
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {
                        "scopes": [scope],
                        "commands": [
                            {"title": nb, "description": t("nb", key)} for nb, _, key in commands
                        ],
                    }
                    for scope, commands in LISTS
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def english(organisation: str) -> dict[str, Any]:
    """The English localization file: the same fields, addressed by their JSON path."""
    strings: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA,
        "name.short": "beholde",
        "name.full": f"beholde – {organisation}"[:100],
        "description.short": t("en", "teams_app_short"),
        "description.full": t("en", "teams_app_full"),
    }
    for i, (_, commands) in enumerate(LISTS):
        for j, (_, en, key) in enumerate(commands):
            strings[f"bots[0].commandLists[{i}].commands[{j}].title"] = en
            strings[f"bots[0].commandLists[{i}].commands[{j}].description"] = t("en", key)
    return strings


def icons() -> tuple[bytes, bytes]:
    """(colour 192×192, outline 32×32): a pulse line in a heart-shaped leaf."""
    return _draw(192, (31, 111, 92, 255)), _draw(32, None)


def _draw(size: int, background: tuple[int, int, int, int] | None) -> bytes:
    scale = 4  # draw large, then shrink: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), background or (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    white = (255, 255, 255, 255)
    inset = big * (0.18 if background else 0.06)
    width = max(scale * 2, int(big * (0.05 if background else 0.09)))
    pen.ellipse([inset, inset, big - inset, big - inset], outline=white, width=width)
    mid = big / 2
    line = [
        (inset + width, mid),
        (big * 0.38, mid),
        (big * 0.45, mid - big * 0.16),
        (big * 0.53, mid + big * 0.16),
        (big * 0.60, mid),
        (big - inset - width, mid),
    ]
    pen.line(line, fill=white, width=width, joint="curve")
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG")
    return out.getvalue()


def package(path: Path, app_id: str, privacy_url: str, terms_url: str, organisation: str) -> Path:
    """Write the .zip Teams takes: manifest.json, en-us.json and the two icons."""
    website = privacy_url.rsplit("/", 1)[0] if "/" in privacy_url else privacy_url
    color, outline = icons()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "manifest.json",
            dump(manifest(app_id, privacy_url, terms_url, organisation, website)),
        )
        archive.writestr("en-us.json", dump(english(organisation)))
        archive.writestr("color.png", color)
        archive.writestr("outline.png", outline)
    return path


def write_example(folder: Path) -> None:
    """`deploy/teams/`: the manifest for the placeholder app id and default settings, and
    the icons (`python -m bot.teams_package deploy/teams`)."""
    from bot.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    privacy, terms = settings.teams_privacy_url, settings.teams_terms_url
    website = privacy.rsplit("/", 1)[0]
    folder.mkdir(parents=True, exist_ok=True)
    text = dump(manifest(PLACEHOLDER_APP_ID, privacy, terms, settings.organisation, website))
    (folder / "manifest.json").write_text(text, "utf-8")
    (folder / "en-us.json").write_text(dump(english(settings.organisation)), "utf-8")
    color, outline = icons()
    (folder / "color.png").write_bytes(color)
    (folder / "outline.png").write_bytes(outline)


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates deploy/teams/
    import sys

    write_example(Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/teams"))
