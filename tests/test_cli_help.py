"""`beholde --help` in the CLI's language (BEHOLDE_LANGUAGE, else .env, else bokmål): the
texts from bot/texts/clihelp.*.yaml and typer's frame around them; no English in bokmål or
nynorsk, no bokmål in nynorsk, no Norwegian in English. Each help is drawn in a fresh
interpreter, since the texts are chosen when the CLI is imported."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import common
from tests.test_texts import BOKMAL_ONLY, NORWEGIAN

ROOT = Path(__file__).parent.parent
PAGES = ((), ("network",), ("roster", "import"))
# Ordinary English words of the help and of typer's frame that are neither a command or
# option name of beholde nor Norwegian.
ENGLISH = {
    "the", "and", "of", "with", "usage", "options", "commands", "arguments", "show",
    "message", "exit", "default", "required", "error", "try", "people", "person's", "queue",
    "write", "print", "create", "into", "every", "each", "answers", "this", "who", "what",
    "words", "which", "file", "name", "roster", "rounds", "gatherings", "tasks", "reminder",
    "steering", "group", "database", "row", "valid", "unless", "import", "mark", "confirmation",
}  # fmt: skip
RUN = "from bot.cli import app\napp(prog_name='beholde')"


def helps(lang: str | None, *words: str, cwd: Path = ROOT, dotenv: bool = False) -> str:
    env = {k: v for k, v in os.environ.items() if k != "BEHOLDE_LANGUAGE"}
    env.update(COLUMNS="100", TERMINAL_WIDTH="100", PYTHONPATH=str(ROOT))
    if lang is not None:
        env["BEHOLDE_LANGUAGE"] = lang
    result = subprocess.run(
        [sys.executable, "-c", RUN, *words, "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def prose(page: str) -> set[str]:
    """The words a person reads: without option names (--remove-missing), types (<bool>),
    backticked or «quoted» command examples, and the first column of the command table
    and the command path of the usage line (the command names, which are the interface in
    every language)."""
    lines = [re.sub(r"^[│ ]*[\w-]+ {2,}", "", line) if "─ " not in line else line
             for line in page.splitlines()]  # fmt: skip
    text = re.sub(r"(Bruk|Usage): beholde[\w -]*", r"\1:", "\n".join(lines))
    text = re.sub(r"--[\w-]+|<[^>]*>|`[^`]*`|«[^»]*»|\b[A-Z_]{4,}\b", " ", text)
    return {w.lower() for w in re.findall(r"[^\W\d_]+(?:'[a-z]+)?", text)}


@pytest.mark.parametrize("words", PAGES, ids=lambda w: " ".join(w) or "beholde")
def test_bokmal_help_is_bokmal(words: tuple[str, ...]) -> None:
    page = helps("nb", *words)
    assert "Bruk: beholde" in page and "Vis denne hjelpen og avslutt." in page
    assert "╭─ Valg ─" in page
    assert prose(page) & ENGLISH == set()
    # The word lists can tell: this page has the bokmål words the nynorsk test rules out.
    assert prose(page) & BOKMAL_ONLY and prose(page) & NORWEGIAN


@pytest.mark.parametrize("words", PAGES, ids=lambda w: " ".join(w) or "beholde")
def test_nynorsk_help_is_nynorsk(words: tuple[str, ...]) -> None:
    page = helps("nn", *words)
    assert "Bruk: beholde" in page and "Vis denne hjelpa og avslutt." in page
    assert "╭─ Val ─" in page
    assert prose(page) & ENGLISH == set()
    assert prose(page) & BOKMAL_ONLY == set()


@pytest.mark.parametrize("words", PAGES, ids=lambda w: " ".join(w) or "beholde")
def test_english_help_is_english(words: tuple[str, ...]) -> None:
    page = helps("en", *words)
    assert "Usage: beholde" in page and "Show this message and exit." in page
    assert prose(page) & NORWEGIAN == set()
    assert prose(page) & ENGLISH  # the English words the Norwegian tests rule out


def test_each_page_shows_its_own_texts() -> None:
    """The pages' own sentences, not only the frame: what the command does and an option."""
    root = helps("nb")
    assert "pulsundersøkelser" in root and "Deltakerlisten." in root
    assert "Pulsrundar." in helps("nn")
    network = helps("nn", "network")
    assert "Reglane til læringsnettverket" in network and "Svar på engelsk." in network
    roster = helps("nb", "roster", "import")
    assert "Importer personer fra en CSV-fil" in roster
    assert "Marker personer som ikke lenger står på denne listen" in roster
    assert "{fil}" in roster  # the argument's placeholder in the usage line
    english = helps("en", "roster", "import")
    assert "Mark people this roster no longer lists as left." in english and "{file}" in english


def test_unset_or_unknown_language_is_bokmal_and_dotenv_counts(tmp_path: Path) -> None:
    assert "Vis denne hjelpen og avslutt." in helps(None, cwd=tmp_path)
    assert "Vis denne hjelpen og avslutt." in helps("xx", cwd=tmp_path)
    (tmp_path / ".env").write_text("# settings\nBEHOLDE_LANGUAGE='nn'  # nynorsk\n", "utf-8")
    assert "Vis denne hjelpa og avslutt." in helps(None, cwd=tmp_path)
    assert "Show this message and exit." in helps("en", cwd=tmp_path)  # the environment wins


def test_a_usage_error_is_framed_in_the_language() -> None:
    env = {**os.environ, "BEHOLDE_LANGUAGE": "nn", "COLUMNS": "100", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", RUN, "roster", "import"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Bruk: beholde roster import [VAL] {fil}" in result.stderr
    assert "Skriv 'beholde roster import --help' for hjelp." in result.stderr
    assert "─ Feil ─" in result.stderr and "Traceback" not in result.stderr


def test_help_reads_only_its_own_text_file() -> None:
    """`import bot.cli` reads clihelp.<lang>.yaml, not the whole catalogue (40-odd files)."""
    probe = (
        "import sys, bot.cli\nprint('yaml' in sys.modules)\nimport bot.i18n\n"
        "print(bot.i18n.area_files.cache_info().currsize, bot.i18n.catalogue.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == ["False", "0", "0"]  # not even PyYAML (see the next test)


def test_every_help_key_is_in_the_catalogue_in_all_three_languages() -> None:
    """h() reads the same file the catalogue merges: each language has the same help keys."""
    keys = {lang: set(common.help_texts(lang)) for lang in ("nb", "nn", "en")}
    assert keys["nb"] == keys["nn"] == keys["en"]
    from bot.i18n import catalogue

    assert keys["nb"] <= set(catalogue("nb"))
    used = set()
    call = re.compile(r'\bh\("(\w+(?:\.\w+)*)"\)')
    for module in (ROOT / "bot" / "cli").glob("*.py"):
        used |= {f"clihelp.{k}" for k in call.findall(module.read_text())}
    assert used and used <= keys["nb"], used - keys["nb"]


def test_the_quick_reading_of_the_help_file_is_what_yaml_reads() -> None:
    """help_texts() spares `--help` PyYAML's import for plain `key: "text"` lines; for the
    real files it must give exactly YAML's texts, and hand anything else to YAML."""
    import yaml

    for lang in ("nb", "nn", "en"):
        raw = (ROOT / "bot" / "texts" / f"clihelp.{lang}.yaml").read_text("utf-8")
        assert common.help_texts(lang) == yaml.safe_load(raw), lang
    tricky = '# c\nclihelp.a: "Plain."\nclihelp.b: "Tab\\there"\nclihelp.c: >\n  Folded\n  text\n'
    assert common.parse_help(tricky) == {
        "clihelp.a": "Plain.", "clihelp.b": "Tab\there", "clihelp.c": "Folded text",
    }  # fmt: skip
    assert common.parse_help('clihelp.a: "Plain." # note\n') == {"clihelp.a": "Plain."}
