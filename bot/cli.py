"""The `beholde` command line (typer)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from bot.app import build, setup_logging
from bot.conversation import Conversation
from bot.i18n import t
from bot.outbox import deliver_due
from bot.ports import Address
from bot.settings import Settings, explain
from bot.transports.console import PLATFORM as CONSOLE
from bot.transports.console import ConsoleTransport
from storage import answers, frames, people
from storage.db import safe_url
from storage.models import Round
from surveys.aggregate import factor_rows, group_counts, quit_share
from surveys.definition import SurveyError
from surveys.roster import parse_roster

app = typer.Typer(
    help="beholde — pulse surveys and learning-network follow-up in chat.",
    no_args_is_help=True,
    add_completion=False,
)
roster_app = typer.Typer(help="The roster of people.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
round_app = typer.Typer(help="Pulse rounds.", no_args_is_help=True)
app.add_typer(roster_app, name="roster")
app.add_typer(db_app, name="db")
app.add_typer(round_app, name="round")
console = Console()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment/.env; a bad value stops here with a clear message."""
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        console.print(explain(error), style="red", markup=False)
        raise typer.Exit(2) from None
    setup_logging(settings.log_level)
    return settings


def engine_from(settings: Settings) -> Conversation:
    try:
        return build(settings)
    except SurveyError as error:
        console.print(f"beholde cannot start: {error}", style="red", markup=False)
        raise typer.Exit(2) from None


# --------------------------------------------------------------------------- demo


@app.command()
def demo(
    database: Annotated[
        str | None, typer.Option(help="Database URL (default: a temporary SQLite file).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the synthetic answers.")] = 7,
) -> None:
    """The whole loop in seconds: synthetic staff answer a round; the anonymous result is shown."""
    from bot.demo import run_demo

    with tempfile.TemporaryDirectory(prefix="beholde-demo-") as tmp:
        url = database or f"sqlite:///{Path(tmp) / 'demo.db'}"
        settings = load_settings(database_url=url, log_level="WARNING")
        engine = engine_from(settings)
        started = time.perf_counter()
        counts = run_demo(engine, seed)
        closed = engine.close_round()
        assert closed is not None
        console.print(
            f"[bold]beholde demo[/bold] — {counts['people']} synthetic employees in "
            f"{len(engine.survey.scales['municipality'].options)} municipalities answered "
            f"one pulse round through the conversation engine "
            f"({time.perf_counter() - started:.1f} s)."
        )
        print_round(engine, closed.id)
        engine.db.dispose()


def decimal(value: float, sign: str = "") -> str:
    """One decimal with a Norwegian decimal comma (3,1)."""
    return f"{value:{sign}.1f}".replace(".", ",")


def print_round(engine: Conversation, round_id: int, lang: str = "nb") -> None:
    """Participation, factor means and the quitting share — only for groups of at least k."""
    k = engine.config.k
    municipality = engine.survey.scales["municipality"]
    with engine.db.transaction() as session:
        part = frames.participation(session, round_id)
        frame = frames.responses(session, [round_id])
        round_ = session.get(Round, round_id)
        number = round_.number if round_ else round_id
    invited, finished = int(part["invited"].sum()), int(part["finished"].sum())
    console.print(
        f"\n[bold]Runde {number}[/bold]: {finished} av {invited} fullførte pulsen "
        f"({100 * finished / max(invited, 1):.0f} %). Grupper under {k} vises ikke."
    )
    table = Table(title="Deltakelse per kommune")
    table.add_column("Kommune")
    table.add_column("Invitert", justify="right")
    table.add_column("Fullført", justify="right")
    for row in part.sort_values("invited", ascending=False).itertuples():
        name = municipality.label(row.municipality, lang) if row.municipality else "ukjent"
        done = str(row.finished) if row.finished >= k else f"færre enn {k}"
        table.add_row(name, str(row.invited), done)
    console.print(table)
    table = Table(title="Motivasjonsfaktorer (1–6): opplevd mot viktighet")
    for column in ("Faktor", "Opplevd", "Viktighet", "Gap", "n"):
        table.add_column(column, justify="left" if column == "Faktor" else "right")
    rows = sorted(
        factor_rows(frame, engine.survey, k, lang),
        key=lambda r: -(r.gap if r.gap is not None else -99),
    )
    for r in rows:
        if r.experienced is None or r.importance is None or r.gap is None:
            table.add_row(r.label, "–", "–", "–", f"færre enn {k}")
        else:
            table.add_row(
                r.label,
                decimal(r.experienced),
                decimal(r.importance),
                decimal(r.gap, "+"),
                str(r.n),
            )
    console.print(table)
    share, n = quit_share(frame, k)
    if share is None:
        console.print(f"Vurdert å slutte: færre enn {k} svar.")
    else:
        console.print(f"Har vurdert å slutte i jobben: {100 * share:.0f} % (n = {n}).")
    per_group = group_counts(frame, "municipality")
    known = set(municipality.values())
    hidden = [municipality.label(m, lang) for m, c in per_group.items() if c < k and m in known]
    if hidden:
        console.print(f"Ikke vist for enkeltkommuner med færre enn {k} svar: {', '.join(hidden)}.")


# --------------------------------------------------------------------------- chat


@app.command()
def chat(
    as_: Annotated[
        str, typer.Option("--as", help="The person's name (created if not on the roster).")
    ],
    language: Annotated[str, typer.Option(help="nb, en or nn for a new person.")] = "nb",
) -> None:
    """Answer a pulse in the terminal, against the same engine and database as the chat apps."""
    settings = load_settings()
    engine = engine_from(settings)
    transport = ConsoleTransport(typer.echo)
    address = Address(CONSOLE, as_)
    with engine.db.transaction() as session:
        person = people.by_address(session, CONSOLE, as_) or people.by_name(session, as_)
        if person is None:
            person = people.create_person(session, as_, engine.clock(), language=language)
        people.bind_address(session, person, CONSOLE, as_, engine.clock())
    transport.show_reply(engine.greet(address))
    typer.echo(
        "\n(Skriv tallet for en knapp, /hjelp for hjelp, /avslutt eller Ctrl-D for å gå ut.)"
    )
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            break
        if line.strip() in ("/avslutt", "/quit", "/exit"):
            break
        event = transport.parse(address, line)
        if event is not None:
            transport.show_reply(engine.handle(event))


# --------------------------------------------------------------------------- roster


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import people from a CSV file; nothing is imported unless every row is valid."""
    settings = load_settings()
    engine = engine_from(settings)
    try:
        text = file.read_text("utf-8-sig")
    except UnicodeDecodeError:
        console.print(f"{file}: the file is not UTF-8 text; save it as CSV UTF-8.", style="red")
        raise typer.Exit(1) from None
    entries, errors = parse_roster(text, engine.survey)
    if errors:
        console.print(f"{file}: {len(errors)} problem(s); nothing was imported:", style="red")
        for error in errors:
            console.print(f"  {error}", markup=False)
        raise typer.Exit(1)
    with engine.db.transaction() as session:
        added, updated = people.import_roster(session, entries, engine.clock())
    console.print(f"Imported {added} new and updated {updated} people.")


@roster_app.command("list")
def roster_list() -> None:
    """Who is registered, and where they can be reached — never any answers."""
    settings = load_settings()
    engine = engine_from(settings)
    table = Table()
    for column in (
        "Name",
        "E-mail",
        "Municipality",
        "Profession",
        "Role",
        "Team",
        "Chats",
        "Status",
    ):
        table.add_column(column)
    with engine.db.transaction() as session:
        for p in people.list_people(session):
            chats = ", ".join(a.platform for a in people.addresses_of(session, p.id)) or "–"
            table.add_row(
                p.name,
                p.email or "–",
                p.municipality or "–",
                p.profession or "–",
                p.role,
                p.team or "–",
                chats,
                p.status,
            )
    console.print(table)


# --------------------------------------------------------------------------- database and rounds


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    settings = load_settings()
    engine_from(settings)
    console.print(f"Database is up to date: {safe_url(settings.database_url)}", markup=False)


@round_app.command("open")
def round_open(
    days: Annotated[int | None, typer.Option(help="Days the round stays open.")] = None,
) -> None:
    """Open a pulse round now and queue the first question for everyone reachable."""
    engine = engine_from(load_settings())
    try:
        round_ = engine.open_round(days=days)
    except ValueError as error:
        console.print(str(error), style="red")
        raise typer.Exit(1) from None
    with engine.db.transaction() as session:
        counts = answers.round_counts(session, round_.id)
    closes = round_.closes_at.astimezone(engine.config.tz)
    console.print(
        f"Round {round_.number} is open until {closes:%d.%m.%Y %H:%M}; {counts.invited} invited."
    )


@round_app.command("close")
def round_close() -> None:
    """Close the open round and show its anonymous result."""
    engine = engine_from(load_settings())
    closed = engine.close_round()
    if closed is None:
        console.print("No round is open.")
        raise typer.Exit(1)
    print_round(engine, closed.id)


@round_app.command("status")
def round_status() -> None:
    """Participation in the open round (counts only)."""
    engine = engine_from(load_settings())
    with engine.db.transaction() as session:
        current = answers.current_round(session)
        if current is None:
            console.print(t("en", "no_round"))
            return
        counts = answers.round_counts(session, current.id)
    closes = current.closes_at.astimezone(engine.config.tz)
    console.print(
        f"Round {current.number}: {counts.finished} of {counts.invited} finished, "
        f"{counts.started} under way; closes {closes:%d.%m.%Y %H:%M}."
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="HTTP address (BEHOLDE_HTTP_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (BEHOLDE_HTTP_PORT).")] = None,
) -> None:
    """Run the service: every configured chat platform, the outbox and the schedule."""
    from bot.serve import Service, run_service

    settings = load_settings(http_host=host, http_port=port)
    engine = engine_from(settings)
    service = Service(settings, engine)
    try:
        asyncio.run(run_service(service, settings.http_host, settings.http_port))
    except OSError as error:
        console.print(f"beholde cannot start the HTTP server: {error}", style="red")
        raise typer.Exit(2) from None


@app.command()
def digest(
    post: Annotated[bool, typer.Option(help="Queue it for the steering-group channel(s).")] = False,
) -> None:
    """This week's steering-group digest: task status per team, gatherings, participation."""
    from bot.digest import digest_text, queue_digest
    from bot.summaries import steering_targets

    settings = load_settings()
    engine = engine_from(settings)
    now = engine.clock()
    with engine.db.transaction() as session:
        console.print(
            digest_text(
                session, engine.survey, now, settings.tz, settings.language, settings.k_anonymity
            ),
            markup=False,
        )
        if post:
            targets = steering_targets(settings, ["slack", "telegram"])
            queued = queue_digest(
                session,
                engine.survey,
                targets,
                now,
                settings.tz,
                settings.language,
                settings.k_anonymity,
            )
            console.print(
                f"Queued for {queued} channel(s); `beholde serve` delivers them."
                if targets
                else "No steering channel is configured."
            )


@app.command()
def deliver() -> None:
    """Send what is due in the outbox for the console (for trying things by hand)."""
    engine = engine_from(load_settings())
    transport = ConsoleTransport(typer.echo)
    stats = asyncio.run(
        deliver_due(engine.db, {CONSOLE: transport}, dt.datetime.now(dt.UTC), "cli")
    )
    console.print(f"sent {stats.sent}, retried {stats.retried}, failed {stats.failed}")


from bot.slack_roster import sync_slack  # noqa: E402  (Slack roster sync, issue 4)

roster_app.command("sync-slack")(sync_slack)

from bot.invite import invite  # noqa: E402  (Telegram invite links, issue 3)

app.command("invite")(invite)

from bot.summary_cli import summary  # noqa: E402  (steering-group summaries, issue 6)

app.command("summary")(summary)

from bot.network_cli import register as register_network  # noqa: E402  (issue 5)

register_network(app)

from bot.teams_package import register as register_teams  # noqa: E402  (issue 11)

register_teams(app)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
