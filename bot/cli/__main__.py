"""`python -m bot.cli …` runs the same CLI as `beholde …`."""

from bot.cli import app

app()
