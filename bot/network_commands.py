"""Leader commands for the learning network, shared by every transport, the console and the CLI.

`samling`, `oppgave` and `påminn` (ASCII `paminn`; English `gathering`, `task`, `remind`)
are for the leader role; `arbeidstid` (`hours`) lets anyone on shifts pick their own reminder
hours. Each command is a pure function of (session, actor, words, now) that returns lines of
text, so the chat and the `beholde` CLI run exactly the same code.
"""

# ruff: noqa: E501  (chat sentences are kept whole so they can be read and translated)

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import network as net
from bot.i18n import t as t_
from bot.ports import OutgoingMessage, Reply
from storage.models import Person
from storage.network_models import Gathering, Task
from surveys.network import (
    DATE_EXAMPLE,
    DATE_EXAMPLE_EN,
    Window,
    local_day,
    local_to_utc,
    parse_when,
    split_args,
)

if TYPE_CHECKING:
    from bot.conversation import Context, Conversation
    from bot.dashboard.commands import Priority

LEADERS = {"leader"}
DEFAULT_LENGTH = dt.timedelta(hours=6)
STATUS_NB = {
    "planned": "planlagt",
    "moved": "flyttet",
    "cancelled": "avlyst",
    "held": "holdt",
    "replaced_by_webinar": "erstattet av webinar",
}
ALL = {"alle", "all", "*"}
DUE_WORDS = ("frist", "due", "innen", "by")

GATHERING_HELP = {
    "nb": 'Bruk: /samling ny "Tittel" 12.03.2027 09:00 Sted · /samling liste · '
    "/samling flytt N 26.03.2027 [10:00] · /samling avlys N · /samling webinar N lenke · "
    "/samling holdt N · /samling tema N tekst · /samling program N tekst",
    "en": 'Use: /gathering new "Title" 12.03.2027 09:00 Place · /gathering list · '
    "/gathering move N 26.03.2027 [10:00] · /gathering cancel N · /gathering webinar N link · "
    "/gathering held N · /gathering theme N text · /gathering programme N text",
}
TASK_HELP = {
    "nb": 'Bruk: /oppgave ny "Tittel" frist 05.03.2027 alle|<lag> [beskrivelse] · '
    "/oppgave liste · /oppgave status [N]",
    "en": 'Use: /task new "Title" due 05.03.2027 all|<team> [description] · '
    "/task list · /task status [N]",
}
REMIND_HELP = {
    "nb": "Bruk: /påminn samling N [lag] eller /påminn oppgave N [lag]",
    "en": "Use: /remind gathering N [team] or /remind task N [team]",
}


@dataclass(frozen=True)
class Actor:
    """Who gives the command: a person in a chat, or the CLI (person None)."""

    person: Person | None
    lang: str


def _title(words: list[str], today: dt.date) -> tuple[str, list[str]]:
    """The title is the words before `frist`/`due` or before the first date."""
    for i, word in enumerate(words[1:], start=1):
        if word.lower() in DUE_WORDS or parse_when(words[i:], today) is not None:
            return " ".join(words[:i]), words[i:]
    return words[0], words[1:]


def _en(actor: Actor) -> bool:
    return actor.lang == "en"


def _pick(actor: Actor, nb: str, en: str) -> str:
    return en if _en(actor) else nb


def _bad_date(actor: Actor, got: str) -> str:
    return _pick(
        actor,
        f"Jeg forstod ikke datoen «{got}». Skriv for eksempel {DATE_EXAMPLE}.",
        f"I couldn't read the date “{got}”. Write for example {DATE_EXAMPLE_EN}.",
    )


def _number(actor: Actor, words: list[str], what: str) -> int | str:
    if not words or not words[0].lstrip("#").isdigit():
        return _pick(
            actor, f"Skriv nummeret på {what}, f.eks. 3.", f"Give the {what} number, e.g. 3."
        )
    return int(words[0].lstrip("#"))


def _gathering(session: Session, actor: Actor, words: list[str]) -> Gathering | str:
    number = _number(actor, words, _pick(actor, "samlingen", "gathering"))
    if isinstance(number, str):
        return number
    g = session.get(Gathering, number)
    if g is None:
        return _pick(
            actor,
            f"Fant ingen samling nr. {number}. Se /samling liste.",
            f"No gathering number {number}. See /gathering list.",
        )
    return g


def _status(actor: Actor, status: str) -> str:
    return status.replace("_", " ") if _en(actor) else STATUS_NB.get(status, status)


def _line(g: Gathering, tz: dt.tzinfo, actor: Actor) -> str:
    where = g.place or g.online_link or "–"
    return (
        f"{g.id}. {g.title} — {net.fmt_when(g.starts_at, tz, actor.lang)}, {where} "
        f"({_status(actor, g.status)})"
    )


# --------------------------------------------------------------------------- samling


def gathering(
    session: Session, actor: Actor, args: list[str], now: dt.datetime, tz: dt.tzinfo
) -> list[str]:
    words = split_args(args)
    action = words[0].lower() if words else "liste"
    rest = words[1:]
    today = local_day(now, tz)
    if action in ("ny", "new", "add", "legg"):
        if not rest:
            return [GATHERING_HELP[_lang(actor)]]
        title, rest = _title(rest, today)
        when = parse_when(rest, today)
        if when is None or when.at is None:
            return [_bad_date(actor, " ".join(rest[:2]) or "")]
        starts = local_to_utc(when.day, when.at, tz)
        ends = local_to_utc(when.day, when.until, tz) if when.until else starts + DEFAULT_LENGTH
        if starts <= now:
            return [
                _pick(
                    actor,
                    "Den tiden har alt vært. Velg en dato fram i tid.",
                    "That time has passed. Pick a future date.",
                )
            ]
        if ends <= starts:
            return [
                _pick(
                    actor, "Sluttiden må være etter starttiden.", "The end must be after the start."
                )
            ]
        place_words = rest[when.used :]
        link = next((w for w in place_words if w.startswith(("http://", "https://"))), None)
        place = " ".join(w for w in place_words if w != link) or None
        g, planned = net.add_gathering(session, tz, now, title[:200], starts, ends, place, link)
        return [
            _pick(
                actor,
                f"Samling {g.id} «{g.title}» er lagt inn {net.fmt_when(starts, tz, 'nb')}"
                f"{', ' + place if place else ''}. {planned} påminnelser er planlagt.",
                f"Gathering {g.id} “{g.title}” added for {net.fmt_when(starts, tz, 'en')}"
                f"{', ' + place if place else ''}. {planned} reminders planned.",
            )
        ]
    if action in ("liste", "list", "vis", "show", "ls"):
        rows = net.gatherings(session, now=now)
        if not rows:
            return [_pick(actor, "Ingen samlinger er lagt inn ennå.", "No gatherings yet.")]
        return ["\n".join(_line(g, tz, actor) for g in rows)]
    if action not in (
        "flytt",
        "move",
        "avlys",
        "cancel",
        "webinar",
        "holdt",
        "held",
        "tema",
        "theme",
        "program",
        "programme",
    ):
        return [GATHERING_HELP[_lang(actor)]]
    found = _gathering(session, actor, rest)
    if isinstance(found, str):
        return [found]
    g = found
    rest = rest[1:]
    if action in ("flytt", "move"):
        when = parse_when(rest, today)
        if when is None:
            return [_bad_date(actor, " ".join(rest[:2]))]
        old_local = g.starts_at.astimezone(tz)
        at = when.at or old_local.time().replace(tzinfo=None)
        starts = local_to_utc(when.day, at, tz)
        ends = (
            local_to_utc(when.day, when.until, tz)
            if when.until
            else starts + (g.ends_at - g.starts_at)
        )
        if starts <= now:
            return [
                _pick(
                    actor,
                    "Den tiden har alt vært. Velg en dato fram i tid.",
                    "That time has passed. Pick a future date.",
                )
            ]
        if g.status in ("cancelled", "held"):
            return [
                _pick(
                    actor,
                    f"Samling {g.id} er {_status(actor, g.status)} og kan ikke flyttes.",
                    f"Gathering {g.id} is {_status(actor, g.status)} and cannot be moved.",
                )
            ]
        if starts == g.starts_at and ends == g.ends_at:
            return [
                _pick(
                    actor,
                    f"Samling {g.id} er allerede satt til {net.fmt_when(starts, tz, 'nb')}; ingenting er endret.",
                    f"Gathering {g.id} is already at {net.fmt_when(starts, tz, 'en')}; nothing changed.",
                )
            ]
        planned, told = net.move_gathering(session, tz, now, g, starts, ends)
        return [
            _pick(
                actor,
                f"Samling {g.id} er flyttet til {net.fmt_when(starts, tz, 'nb')}. {told} har fått beskjed; "
                f"{planned} nye påminnelser er planlagt.",
                f"Gathering {g.id} moved to {net.fmt_when(starts, tz, 'en')}. {told} people told; "
                f"{planned} new reminders planned.",
            )
        ]
    if action in ("avlys", "cancel"):
        if g.status == "cancelled":
            return [
                _pick(
                    actor,
                    f"Samling {g.id} er allerede avlyst.",
                    f"Gathering {g.id} is already cancelled.",
                )
            ]
        told = net.cancel_gathering(session, tz, now, g)
        return [
            _pick(
                actor,
                f"Samling {g.id} er avlyst. {told} har fått beskjed, og påminnelsene er trukket tilbake.",
                f"Gathering {g.id} is cancelled. {told} people told; its reminders are withdrawn.",
            )
        ]
    if action == "webinar":
        link = rest[0] if rest else ""
        if not link.startswith(("http://", "https://")):
            return [
                _pick(
                    actor,
                    "Skriv lenken til webinaret, f.eks. /samling webinar 3 https://…",
                    "Give the webinar link, e.g. /gathering webinar 3 https://…",
                )
            ]
        told = net.webinar_gathering(session, tz, now, g, link[:500])
        return [
            _pick(
                actor,
                f"Samling {g.id} er erstattet av webinar. {told} har fått lenken.",
                f"Gathering {g.id} is replaced by a webinar. {told} people got the link.",
            )
        ]
    if action in ("holdt", "held"):
        net.mark_held(session, now, g)
        return [
            _pick(
                actor,
                f"Samling {g.id} er markert som holdt.",
                f"Gathering {g.id} is marked as held.",
            )
        ]
    text = " ".join(rest).strip()
    if not text:
        return [GATHERING_HELP[_lang(actor)]]
    if action in ("tema", "theme"):
        g.theme = text[:300]
    else:
        g.programme = text[:4000]
    return [_pick(actor, f"Samling {g.id} er oppdatert.", f"Gathering {g.id} updated.")]


def _lang(actor: Actor) -> str:
    return "en" if _en(actor) else "nb"


# --------------------------------------------------------------------------- oppgave


def task(
    session: Session,
    actor: Actor,
    args: list[str],
    now: dt.datetime,
    tz: dt.tzinfo,
    priority: Callable[[int], Priority | None] | None = None,
) -> list[str]:
    words = split_args(args)
    action = words[0].lower() if words else "liste"
    rest = words[1:]
    picked: Priority | None = None
    if action in ("ny", "new", "add"):
        if not rest:
            return [TASK_HELP[_lang(actor)]]
        # `oppgave ny fra prioritet 1 frist 12.02 alle`: a task tied to a summary's priority.
        if [w.lower() for w in rest[:2]] in (["fra", "prioritet"], ["from", "priority"]):
            if priority is None or len(rest) < 3 or not rest[2].isdigit():
                return [t_(actor.lang, "dashboard_task_priority_help")]
            picked = priority(int(rest[2]))
            if picked is None:
                return [t_(actor.lang, "dashboard_task_no_priority", number=rest[2])]
            rest = rest[3:]
            if not rest or rest[0].lower() in DUE_WORDS:
                rest = [t_(actor.lang, "dashboard_task_title", factor=picked.label), *rest]
        title, rest = _title(rest, local_day(now, tz))
        if rest and rest[0].lower() in DUE_WORDS:
            rest = rest[1:]
        when = parse_when(rest, local_day(now, tz))
        if when is None:
            return [_bad_date(actor, " ".join(rest[:1]))]
        if when.day < local_day(now, tz):
            return [
                _pick(
                    actor,
                    "Fristen har alt vært. Velg en dato fram i tid.",
                    "That due date has passed. Pick a future date.",
                )
            ]
        rest = rest[when.used :]
        known = net.teams(session)
        team: str | None = None
        if not rest or rest[0].lower() in ALL:
            rest = rest[1:]
        else:
            team = net.resolve_team(session, rest[0])
            if team is None:
                listed = ", ".join(known) or _pick(
                    actor, "ingen lag i rosteren ennå", "no teams in the roster yet"
                )
                return [
                    _pick(
                        actor,
                        f"Kjenner ikke laget «{rest[0]}». Lagene er: {listed} (eller «alle»).",
                        f"Unknown team “{rest[0]}”. Teams: {listed} (or “all”).",
                    )
                ]
            rest = rest[1:]
        if not known:
            return [
                _pick(
                    actor,
                    "Ingen lag er registrert ennå (kolonnen team i rosteren).",
                    "No teams are registered yet (the team column of the roster).",
                )
            ]
        description = " ".join(rest).strip() or None
        t, planned = net.add_task(
            session, tz, now, title[:200], when.day, team, actor.person, description
        )
        who = team or _pick(actor, "alle lag", "all teams")
        linked = []
        if picked is not None:
            t.factor_id = picked.factor_id
            linked = [t_(actor.lang, "dashboard_task_linked", factor=picked.label,
                         number=picked.round_number)]  # fmt: skip
        return [
            _pick(
                actor,
                f"Oppgave {t.id} «{t.title}» for {who}, frist {net.fmt_day(t.due_on, 'nb')}. {planned} påminnelser er planlagt.",
                f"Task {t.id} “{t.title}” for {who}, due {net.fmt_day(t.due_on, 'en')}. {planned} reminders planned.",
            ),
            *linked,
        ]
    if action in ("liste", "list", "ls"):
        rows = net.tasks(session)
        if not rows:
            return [_pick(actor, "Ingen oppgaver er lagt inn ennå.", "No tasks yet.")]
        lines = []
        for t in rows:
            teams = net.task_rows(session, t.id)
            done = sum(1 for r in teams if r.status == "done")
            lines.append(
                f"{t.id}. {t.title} — {_pick(actor, 'frist', 'due')} {net.fmt_day(t.due_on, actor.lang)}, {t.team or _pick(actor, 'alle', 'all')}: {done}/{len(teams)} {_pick(actor, 'ferdig', 'done')}"
            )
        return ["\n".join(lines)]
    if action in ("status",):
        chosen: list[Task]
        if rest:
            number = _number(actor, rest, _pick(actor, "oppgaven", "task"))
            if isinstance(number, str):
                return [number]
            one = session.get(Task, number)
            if one is None:
                return [
                    _pick(actor, f"Fant ingen oppgave nr. {number}.", f"No task number {number}.")
                ]
            chosen = [one]
        else:
            chosen = net.tasks(session)
        if not chosen:
            return [_pick(actor, "Ingen oppgaver er lagt inn ennå.", "No tasks yet.")]
        lines = []
        for t in chosen:
            lines.append(
                f"{t.id}. {t.title} ({_pick(actor, 'frist', 'due')} {net.fmt_day(t.due_on, actor.lang)})"
            )
            for r in net.task_rows(session, t.id):
                if r.status == "done" and r.done_at is not None:
                    lines.append(
                        f"   {r.team}: ✅ {r.done_by_name or '?'} {net.fmt_when(r.done_at, tz, actor.lang)}"
                    )
                else:
                    lines.append(f"   {r.team}: {_pick(actor, 'åpen', 'open')}")
        return ["\n".join(lines)]
    return [TASK_HELP[_lang(actor)]]


# --------------------------------------------------------------------------- påminn


def remind(
    session: Session, actor: Actor, args: list[str], now: dt.datetime, tz: dt.tzinfo
) -> list[str]:
    words = split_args(args)
    if len(words) < 2:
        return [REMIND_HELP[_lang(actor)]]
    kind = {
        "samling": "gathering",
        "gathering": "gathering",
        "oppgave": "task",
        "task": "task",
    }.get(words[0].lower())
    if kind is None or not words[1].lstrip("#").isdigit():
        return [REMIND_HELP[_lang(actor)]]
    team = None
    if len(words) > 2 and words[2].lower() not in ALL:
        team = net.resolve_team(session, " ".join(words[2:]))
        if team is None:
            listed = ", ".join(net.teams(session)) or "–"
            return [
                _pick(
                    actor,
                    f"Kjenner ikke laget «{' '.join(words[2:])}». Lagene er: {listed}.",
                    f"Unknown team “{' '.join(words[2:])}”. Teams: {listed}.",
                )
            ]
    result = net.remind_now(session, tz, now, kind, int(words[1].lstrip("#")), team)
    if result is None:
        what = _pick(actor, "samling" if kind == "gathering" else "oppgave", kind)
        return [_pick(actor, f"Fant ingen {what} nr. {words[1]}.", f"No {what} number {words[1]}.")]
    sent, later = result
    text = _pick(
        actor, f"Påminnelsen er sendt til {sent} personer.", f"The reminder went to {sent} people."
    )
    if later:
        text += _pick(
            actor,
            f" {later} får den når arbeidstiden deres begynner (aldri om natten).",
            f" {later} get it when their working hours begin (never at night).",
        )
    if sent + later == 0:
        text = _pick(
            actor,
            "Ingen fikk påminnelsen: ingen i laget kan nås, eller oppgaven er ferdig.",
            "Nobody got the reminder: nobody in the team can be reached, or the task is done.",
        )
    return [text]


# --------------------------------------------------------------------------- chat glue


def _tz(ctx: Context) -> dt.tzinfo:
    return ctx.engine.config.tz


def _reply(lines: list[str]) -> Reply:
    return Reply([OutgoingMessage(line) for line in lines])


def gathering_command(ctx: Context) -> Reply:
    return _reply(
        gathering(ctx.session, Actor(ctx.person, ctx.lang), list(ctx.args), ctx.now, _tz(ctx))
    )


def task_command(ctx: Context) -> Reply:
    from bot.dashboard.commands import priority

    def pick(number: int) -> Priority | None:
        return priority(ctx.session, ctx.engine, number, ctx.lang, ctx.now)

    actor = Actor(ctx.person, ctx.lang)
    return _reply(task(ctx.session, actor, list(ctx.args), ctx.now, _tz(ctx), pick))


def remind_command(ctx: Context) -> Reply:
    return _reply(
        remind(ctx.session, Actor(ctx.person, ctx.lang), list(ctx.args), ctx.now, _tz(ctx))
    )


def hours_command(ctx: Context) -> Reply:
    """`/arbeidstid 14:00-22:00`: reminders only then; `/arbeidstid standard` resets."""
    actor = Actor(ctx.person, ctx.lang)
    network = net.ensure_network(ctx.session, ctx.now)
    default = net.policy_of(network).window
    text = " ".join(ctx.args).strip().lower()
    if text in ("standard", "default", "reset"):
        net.set_window(ctx.session, ctx.person.id, None)
        return _reply(
            [
                _pick(
                    actor,
                    f"Du får påminnelser i vanlig arbeidstid, {default}.",
                    f"You get reminders in the usual hours, {default}.",
                )
            ]
        )
    if not text:
        mine = net.window_for(ctx.session, ctx.person.id, default)
        return _reply(
            [
                _pick(
                    actor,
                    f"Du får påminnelser mellom {mine}. Endre med f.eks. /arbeidstid 14:00-22:00, eller /arbeidstid standard.",
                    f"You get reminders between {mine}. Change with e.g. /hours 14:00-22:00, or /hours default.",
                )
            ]
        )
    try:
        window = Window.parse(text)
    except ValueError as error:
        return _reply(
            [
                _pick(
                    actor,
                    f"{error}. Eksempel: /arbeidstid 14:00-22:00",
                    "Write your hours like /hours 14:00-22:00, between 06:00 and 23:00, at least two hours.",
                )
            ]
        )
    net.set_window(ctx.session, ctx.person.id, window)
    return _reply(
        [
            _pick(
                actor,
                f"Greit — påminnelser kommer bare mellom {window}.",
                f"OK — reminders only between {window}.",
            )
        ]
    )


def task_prompt(ctx: Context, prompt: object) -> Reply:
    edit = net.task_button(ctx.session, _tz(ctx), ctx.now, ctx.person, prompt, ctx.args[0])  # type: ignore[arg-type]
    return Reply(edit=edit)


def register(engine: Conversation) -> None:
    """Add the network's commands and the Ferdig/Utsett buttons to an engine."""
    add = engine.commands.add
    add(
        ("samling", "gathering", "samlinger", "gatherings"),
        gathering_command,
        roles=LEADERS,
        summary='/samling ny "Tittel" 12.03.2027 09:00 Sted | liste | flytt | avlys | webinar',
    )
    add(
        ("oppgave", "task", "oppgaver", "tasks"),
        task_command,
        roles=LEADERS,
        summary='/oppgave ny "Tittel" frist 05.03.2027 alle | liste | status',
    )
    add(
        ("påminn", "paminn", "pamin", "remind"),
        remind_command,
        roles=LEADERS,
        summary="/påminn samling N [lag] | /påminn oppgave N [lag]",
    )
    add(("arbeidstid", "hours"), hours_command)
    engine.prompt_handlers["task"] = task_prompt
    from bot.dashboard.commands import register as register_dashboard

    register_dashboard(engine)  # /styring (issue 12)
