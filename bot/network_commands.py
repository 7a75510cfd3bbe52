"""Leader commands for the learning network, shared by every transport, the console and the CLI.

`samling`, `oppgave` and `påminn` (ASCII `paminn`; English `gathering`, `task`, `remind`)
are for the leader role; `arbeidstid` (`hours`) lets anyone on shifts pick their own reminder
hours. Each command is a pure function of (session, actor, words, now) that returns lines of
text (from bot/texts/network.<lang>.yaml), so the chat and the `beholde` CLI run exactly the
same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import attendance
from bot import network as net
from bot import network_tasks as tasks_change
from bot.i18n import t
from bot.ports import OutgoingMessage, Reply
from storage import attendance as attendance_store
from storage import network as store
from storage.models import Person, Prompt
from storage.network_models import Gathering, Task
from surveys.dates import latest_day
from surveys.network import (
    LIVE_GATHERING,
    When,
    Window,
    local_day,
    local_to_utc,
    parse_when,
    split_args,
    starts_quoted,
)
from surveys.roster import ROLES

if TYPE_CHECKING:
    from bot.conversation import Context, Conversation
    from bot.dashboard.commands import Priority

LEADERS = {"leader"}
DEFAULT_LENGTH = net.DEFAULT_LENGTH
ALL = {"alle", "all", "*"}
DUE_WORDS = ("frist", "due", "innen", "by")


@dataclass(frozen=True)
class Actor:
    """Who gives the command: a person in a chat, or the CLI (person None)."""

    person: Person | None
    lang: str


def _title(words: list[str], today: dt.date, quoted: bool = False) -> tuple[str, list[str]]:
    """The title is the quoted words, else the words before `frist`/`due` or the first date."""
    if quoted:
        return words[0], words[1:]
    for i, word in enumerate(words[1:], start=1):
        if word.lower() in DUE_WORDS or parse_when(words[i:], today) is not None:
            return " ".join(words[:i]), words[i:]
    return words[0], words[1:]


MAX_TITLE = 200  # what the title columns hold


def _title_problem(actor: Actor, title: str) -> str | None:
    """An empty title, or one longer than is stored, is refused rather than cut short."""
    if title.strip() and len(title) <= MAX_TITLE:
        return None
    return _say(actor, "ops.title_bad", max=MAX_TITLE)


def _say(actor: Actor, key: str, **values: object) -> str:
    """A text from the catalogue in the actor's language."""
    return t(actor.lang, key, **values)


def _bad_date(actor: Actor, got: str) -> str:
    return _say(actor, "net_bad_date", got=got, example=_say(actor, "net_date_example"))


MAX_ID = 2**31 - 1  # the largest id a database column holds


def _date_problem(actor: Actor, when: When, words: list[str], today: dt.date) -> str:
    """Why a date that was read cannot be used (no such day, past, too far), as a sentence."""
    got = " ".join(words[: when.used])
    latest = net.fmt_day(latest_day(today), actor.lang)
    return t(actor.lang, f"day_date_{when.problem}", got=got, latest=latest)


def _number(actor: Actor, words: list[str], missing: str) -> int | str:
    if not words or not words[0].lstrip("#").isdigit():
        return _say(actor, missing)
    number = int(words[0].lstrip("#"))
    if number > MAX_ID:
        return t(actor.lang, "day_no_such_number", number=words[0].lstrip("#")[:30])
    return number


def _gathering(session: Session, actor: Actor, words: list[str]) -> Gathering | str:
    number = _number(actor, words, "net_gathering_number")
    if isinstance(number, str):
        return number
    g = store.gathering(session, number)
    if g is None:
        return _say(actor, "net_gathering_unknown", number=number)
    return g


def _status(actor: Actor, status: str) -> str:
    return _say(actor, f"net_status_{status}")


def _line(g: Gathering, tz: dt.tzinfo, actor: Actor) -> str:
    """One gathering in a list: time span, place, status; its tema and programme under it."""
    where = g.place or g.online_link or "–"
    lines = [
        f"{g.id}. {g.title} — {net.gathering_when(g, tz, actor.lang)}, {where} "
        f"({_status(actor, g.status)})"
    ]
    if g.theme:
        lines.append("   " + _say(actor, "net_g_theme", theme=g.theme))
    if g.programme:
        short = g.programme if len(g.programme) <= 120 else g.programme[:119] + "…"
        lines.append("   " + _say(actor, "net_g_programme", programme=short))
    return "\n".join(lines)


def card(session: Session, g: Gathering, tz: dt.tzinfo, actor: Actor, leader: bool) -> str:
    """One gathering in full (`samling vis N`, `/samlinger`); attendance counts per team only
    for the leader, the person's own answer for a member."""
    lang = actor.lang
    lines = [
        _say(actor, "leader_card_head", id=g.id, title=g.title, status=_status(actor, g.status)),
        net.gathering_when(g, tz, lang),
    ]
    lines += net.gathering_details(g, lang)
    if leader:
        counts = attendance.leader_counts(session, g)
        key = "leader_card_attendance_held" if g.status == "held" else "leader_card_attendance"
        shown = attendance.counts_line(counts, lang) if counts else _say(actor, "leader_card_none")
        lines.append(_say(actor, key, counts=shown))
    elif actor.person is not None and g.status in LIVE_GATHERING:
        mine = attendance_store.answer_of(session, g.id, actor.person.id)
        if mine:
            answer = _say(actor, f"leader_attend_{mine}")
            lines.append(_say(actor, "leader_card_mine", answer=answer, id=g.id))
        else:  # "Endre med …" fits only an answer already given
            lines.append(_say(actor, "walk_card_unanswered", id=g.id))
    return "\n".join(lines)


def gathering_time(
    actor: Actor, words: list[str], now: dt.datetime, tz: dt.tzinfo
) -> tuple[When, dt.datetime, dt.datetime] | str:
    """A new gathering's start and end read from `words`, or the sentence saying why not
    (no such day, past, no time, end before start) — the one-liner's and the form's check."""
    today = local_day(now, tz)
    when = parse_when(words, today)
    if when is not None and when.problem:
        return _date_problem(actor, when, words, today)
    if when is not None and when.at is None:
        return t(actor.lang, "day_time_missing", got=" ".join(words[: when.used]))
    if when is None or when.at is None:
        return _bad_date(actor, " ".join(words[:2]) or "")
    starts = local_to_utc(when.day, when.at, tz)
    ends = local_to_utc(when.day, when.until, tz) if when.until else starts + DEFAULT_LENGTH
    if starts <= now:
        return _say(actor, "net_time_passed")
    if ends <= starts:
        return _say(actor, "net_end_before_start")
    return when, starts, ends


def save_gathering(
    session: Session,
    actor: Actor,
    now: dt.datetime,
    tz: dt.tzinfo,
    title: str,
    starts: dt.datetime,
    ends: dt.datetime,
    end_given: bool,
    place: str | None,
    link: str | None,
    theme: str | None = None,
    programme: str | None = None,
) -> str:
    """Store a checked gathering, plan its reminders, and say so (the one-liner and the form)."""
    g, planned = net.add_gathering(
        session, tz, now, title[:200], starts, ends, place, link, end_given=end_given
    )
    g.theme = theme[:300] if theme else None
    g.programme = programme[:4000] if programme else None
    when_text = net.gathering_when(g, tz, actor.lang)  # with the end when one was given
    key = "net_gathering_added_place" if place else "net_gathering_added"
    return _say(actor, key, id=g.id, title=g.title, when=when_text, place=place, planned=planned)


def _is_leader(actor: Actor) -> bool:
    """The CLI (no person) and project leaders."""
    return actor.person is None or actor.person.role in LEADERS


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
            return [_say(actor, "leader_gathering_help")]
        title, rest = _title(rest, today, starts_quoted(args))
        if (problem := _title_problem(actor, title)) is not None:
            return [problem]
        checked = gathering_time(actor, rest, now, tz)
        if isinstance(checked, str):
            return [checked]
        when, starts, ends = checked
        place_words = rest[when.used :]
        link = next((w for w in place_words if w.startswith(("http://", "https://"))), None)
        place = " ".join(w for w in place_words if w != link) or None
        return [
            save_gathering(
                session, actor, now, tz, title, starts, ends, bool(when.until), place, link
            )
        ]
    if action in ("vis", "show") and rest:  # `samling vis 3`: that one gathering
        found = _gathering(session, actor, rest)
        return [found if isinstance(found, str) else card(session, found, tz, actor, True)]
    if action in ("liste", "list", "vis", "show", "ls"):
        rows = net.gatherings(session, now=now)
        if not rows:
            return [_say(actor, "net_no_gatherings")]
        return ["\n".join(_line(g, tz, actor) for g in rows)]
    if action not in (
        "flytt",
        "move",
        "avlys",
        "cancel",
        "webinar",
        "holdt",
        "halden",
        "held",
        "tema",
        "theme",
        "program",
        "programme",
    ):
        return [_say(actor, "leader_gathering_help")]
    found = _gathering(session, actor, rest)
    if isinstance(found, str):
        return [found]
    g = found
    rest = rest[1:]
    if action in ("flytt", "move"):
        moved = parse_when(rest, today)
        if moved is not None and moved.problem:
            return [_date_problem(actor, moved, rest, today)]
        if moved is None:
            return [_bad_date(actor, " ".join(rest[:2]))]
        when = moved
        old_local = g.starts_at.astimezone(tz)
        at = when.at or old_local.time().replace(tzinfo=None)
        starts = local_to_utc(when.day, at, tz)
        ends = (
            local_to_utc(when.day, when.until, tz)
            if when.until
            else starts + (g.ends_at - g.starts_at)
        )
        if starts <= now:
            return [_say(actor, "net_time_passed")]
        if g.status in ("cancelled", "held"):
            return [_say(actor, "net_cannot_move", id=g.id, status=_status(actor, g.status))]
        when_text = net.fmt_when(starts, tz, actor.lang)
        if starts == g.starts_at and ends == g.ends_at:
            return [_say(actor, "net_already_at", id=g.id, when=when_text)]
        planned, told = net.move_gathering(session, tz, now, g, starts, ends, bool(when.until))
        return [_say(actor, "net_moved", id=g.id, when=when_text, told=told, planned=planned)]
    if action in ("avlys", "cancel"):
        if g.status == "cancelled":
            return [_say(actor, "net_already_cancelled", id=g.id)]
        told = net.cancel_gathering(session, tz, now, g)
        return [_say(actor, "net_cancelled", id=g.id, told=told)]
    if action == "webinar":
        link = rest[0] if rest else ""
        if not link.startswith(("http://", "https://")):
            return [_say(actor, "net_webinar_needs_link")]
        told = net.webinar_gathering(session, tz, now, g, link[:500])
        return [_say(actor, "net_webinar_set", id=g.id, told=told)]
    if action in ("holdt", "halden", "held"):
        came = _came(session, actor, rest)
        if isinstance(came, str):
            return [came]
        if g.status == "cancelled":
            return [_say(actor, "net_cannot_move", id=g.id, status=_status(actor, g.status))]
        if g.starts_at > now:
            return [_say(actor, "leader_not_held_yet", id=g.id)]
        net.mark_held(session, now, g, came)
        counts = attendance.counts_line(attendance.leader_counts(session, g), actor.lang)
        return [_say(actor, "net_held", id=g.id) + (" " + counts if counts else "")]
    text = " ".join(rest).strip()
    if not text:
        return [_say(actor, "leader_gathering_help")]
    if action in ("tema", "theme"):
        g.theme = text[:300]
    else:
        g.programme = text[:4000]
    return [_say(actor, "net_gathering_updated", id=g.id)]


def _came(session: Session, actor: Actor, words: list[str]) -> dict[str, int] | str:
    """`Bodø=5 Fauske=3` → {"Bodø": 5, "Fauske": 3}, or a sentence saying what is wrong."""
    out: dict[str, int] = {}
    for word in words:
        name, sep, number = word.rpartition("=")
        team = net.resolve_team(session, name) if sep else None
        if team is None or not number.isdigit() or int(number) > MAX_PEOPLE:
            listed = ", ".join(net.teams(session)) or _say(actor, "net_no_teams_listed")
            return _say(actor, "leader_came_bad", got=word[:60], teams=listed)
        out[team] = int(number)
    return out


MAX_PEOPLE = 10_000


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
    if action in ("ferdig", "done"):
        return [mark_task_done(session, actor, rest, now, tz)]
    if not _is_leader(actor):
        return [_say(actor, "not_allowed") + " " + _say(actor, "leader_see_own")]
    if action in CHANGES:
        return [change_task(session, actor, action, rest, words, now, tz)]
    if action in ("ny", "new", "add"):
        if not rest:
            return [_say(actor, "leader_task_help")]
        # `oppgave ny fra prioritet 1 frist 12.02 alle`: a task tied to a summary's priority.
        if [w.lower() for w in rest[:2]] in (
            ["fra", "prioritet"],
            ["frå", "prioritet"],
            ["from", "priority"],
        ):
            if priority is None or len(rest) < 3 or not rest[2].isdigit():
                return [t(actor.lang, "dashboard_task_priority_help")]
            picked = priority(int(rest[2]))
            if picked is None:
                return [t(actor.lang, "dashboard_task_no_priority", number=rest[2])]
            rest = rest[3:]
            # No title of its own when what follows is the date, "alle" or a team.
            if (
                not rest
                or rest[0].lower() in (*DUE_WORDS, *ALL)
                or net.resolve_team(session, rest[0]) is not None
            ):
                rest = [t(actor.lang, "dashboard_task_title", factor=picked.label), *rest]
        title, rest = _title(rest, local_day(now, tz), starts_quoted(args))
        if (problem := _title_problem(actor, title)) is not None:
            return [problem]
        # `"Tittel" Bodø frist 20.12`: the team (or "alle") may come before the date too.
        team_first: list[str] = []
        if len(rest) > 1 and (
            rest[0].lower() in ALL or net.resolve_team(session, rest[0]) is not None
        ):
            team_first, rest = rest[:1], rest[1:]
        if rest and rest[0].lower() in DUE_WORDS:
            rest = rest[1:]
        when = parse_when(rest, local_day(now, tz))
        if when is not None and when.problem:
            return [_date_problem(actor, when, rest, local_day(now, tz))]
        default_said: list[str] = []
        if when is None and picked is not None:  # no date: the one the priority button uses
            due_on, before = tasks_change.default_due(session, now, tz)
            default_said = [tasks_change.default_due_words(actor.lang, due_on, before)]
        elif when is None:
            return [_bad_date(actor, " ".join(rest[:1]))]
        else:
            due_on = when.day
            rest = rest[when.used :]
        rest = [*team_first, *rest]
        if due_on < local_day(now, tz):
            return [_say(actor, "net_due_passed")]
        known = net.teams(session)
        team: str | None = None
        if not rest or rest[0].lower() in ALL:
            rest = rest[1:]
        else:
            team = net.resolve_team(session, rest[0])
            if team is None:
                listed = ", ".join(known) or _say(actor, "net_no_teams_listed")
                return [_say(actor, "net_team_unknown", team=rest[0], teams=listed)]
            rest = rest[1:]
        if not known:
            return [_say(actor, "net_no_teams")]
        description = " ".join(rest).strip() or None
        said, task_id = save_task(session, actor, now, tz, title, due_on, team, description)
        linked = []
        added = store.task(session, task_id) if picked is not None else None
        if picked is not None and added is not None:
            added.factor_id = picked.factor_id
            linked = [t(actor.lang, "dashboard_task_linked", factor=picked.label,
                        number=picked.round_number)]  # fmt: skip
        return [said, *linked, *default_said]
    if action in ("liste", "list", "ls"):
        rows = net.tasks(session)
        if not rows:
            return [_say(actor, "net_no_tasks")]
        lines = []
        for item in rows:
            teams = net.task_rows(session, item.id)
            line = _say(
                actor,
                "net_task_line",
                id=item.id,
                title=item.title,
                due=net.fmt_day(item.due_on, actor.lang),
                who=item.team or _say(actor, "net_all"),
                done=sum(1 for r in teams if r.status == "done"),
                total=len(teams),
            )
            if any(r.status == "cancelled" for r in teams):
                line += " " + _say(actor, "leader_task_cancelled_mark")
            lines.append(line)
        return ["\n".join(lines)]
    if action in ("status",):
        status_tasks: list[Task]
        if rest:
            number = _number(actor, rest, "net_task_number")
            if isinstance(number, str):
                return [number]
            one = store.task(session, number)
            if one is None:
                return [_say(actor, "net_task_unknown", number=number)]
            status_tasks = [one]
        else:
            status_tasks = net.tasks(session)
        if not status_tasks:
            return [_say(actor, "net_no_tasks")]
        lines = []
        for one_task in status_tasks:
            due = net.fmt_day(one_task.due_on, actor.lang)
            lines.append(
                _say(actor, "net_task_head", id=one_task.id, title=one_task.title, due=due)
            )
            for r in net.task_rows(session, one_task.id):
                if r.status == "done" and r.done_at is not None:
                    done_at = net.fmt_when(r.done_at, tz, actor.lang)
                    lines.append(f"   {r.team}: ✅ {r.done_by_name or '?'} {done_at}")
                elif r.status == "cancelled":
                    lines.append(f"   {r.team}: {_say(actor, 'leader_task_cancelled_mark')}")
                else:
                    lines.append(f"   {r.team}: {_say(actor, 'net_task_open')}")
        return ["\n".join(lines)]
    return [_say(actor, "leader_task_help")]


def save_task(
    session: Session,
    actor: Actor,
    now: dt.datetime,
    tz: dt.tzinfo,
    title: str,
    due_on: dt.date,
    team: str | None,
    description: str | None,
) -> tuple[str, int]:
    """Store a checked task for one team (None: all), plan its reminders; (what to say, its
    id) — the one-liner and the form."""
    added, planned = net.add_task(
        session, tz, now, title[:200], due_on, team, actor.person, description
    )
    said = _say(
        actor,
        "net_task_added",
        id=added.id,
        title=added.title,
        who=team or _say(actor, "net_all_teams"),
        due=net.fmt_day(added.due_on, actor.lang),
        planned=planned,
    )
    return said, added.id


CHANGES = {
    "flytt": "move", "move": "move",
    "avlys": "cancel", "cancel": "cancel",
    "slett": "delete", "delete": "delete",
    "endre": "edit", "edit": "edit", "rediger": "edit",
}  # fmt: skip
FIELDS = {
    "tittel": "title", "title": "title", "navn": "title",
    "beskrivelse": "description", "skildring": "description", "description": "description",
    "lag": "team", "team": "team",
}  # fmt: skip
YES = {"ja", "j", "yes", "y"}


def _task_of(session: Session, actor: Actor, words: list[str]) -> Task | str:
    number = _number(actor, words, "net_task_number")
    if isinstance(number, str):
        return number
    found = store.task(session, number)
    return found if found is not None else _say(actor, "net_task_unknown", number=number)


def change_task(
    session: Session,
    actor: Actor,
    action: str,
    rest: list[str],
    words: list[str],
    now: dt.datetime,
    tz: dt.tzinfo,
) -> str:
    """`oppgave flytt|avlys|slett|endre N …`: one sentence saying what changed, or why not."""
    kind = CHANGES[action]
    found = _task_of(session, actor, rest)
    if isinstance(found, str):
        return found
    item, rest = found, rest[1:]
    cancelled = tasks_change.is_cancelled(session, item)
    if kind == "delete":
        if not rest or rest[0].lower() not in YES:
            return _say(actor, "leader_task_confirm_delete", id=item.id, title=item.title)
        number, title = item.id, item.title
        told = tasks_change.delete_task(session, now, item)
        return _say(actor, "leader_task_deleted", id=number, title=title, told=told)
    if cancelled:
        return _say(actor, "leader_task_is_cancelled", id=item.id)
    if kind == "cancel":
        told = tasks_change.cancel_task(session, now, item)
        return _say(actor, "leader_task_cancelled", id=item.id, told=told)
    if kind == "move":
        today = local_day(now, tz)
        when = parse_when(rest, today)
        if when is not None and when.problem:
            return _date_problem(actor, when, rest, today)
        if when is None:
            return _bad_date(actor, " ".join(rest[:3]))
        if when.used != len(rest):  # words after the date: say what the command takes
            return _say(actor, "leader_task_move_only_date", id=item.id)
        due = net.fmt_day(when.day, actor.lang)
        if when.day == item.due_on:
            return _say(actor, "leader_task_already_due", id=item.id, due=due)
        planned, told = tasks_change.move_task(session, tz, now, item, when.day)
        return _say(actor, "leader_task_moved", id=item.id, due=due, told=told, planned=planned)
    field = FIELDS.get(rest[0].lower()) if rest else None
    value = " ".join(rest[1:]).strip()
    if field is None or not value:
        return _say(actor, "leader_task_edit_help", id=item.id)
    if field == "title":
        told = tasks_change.rename_task(session, now, item, value[:200])
        return _say(actor, "leader_task_renamed", id=item.id, title=item.title, told=told)
    if field == "description":
        told = tasks_change.describe_task(session, now, item, value[:4000])
        return _say(actor, "leader_task_described", id=item.id, told=told)
    team = None if value.lower() in ALL else net.resolve_team(session, value)
    if team is None and value.lower() not in ALL:
        listed = ", ".join(net.teams(session)) or _say(actor, "net_no_teams_listed")
        return _say(actor, "net_team_unknown", team=value[:60], teams=listed)
    planned, told = tasks_change.retarget_task(session, tz, now, item, team)
    who = team or _say(actor, "net_all_teams")
    return _say(actor, "leader_task_retargeted", id=item.id, who=who, told=told, planned=planned)


def mark_task_done(
    session: Session, actor: Actor, rest: list[str], now: dt.datetime, tz: dt.tzinfo
) -> str:
    """`/oppgave ferdig N`: the person's own team's part, as the Ferdig button does."""
    person = actor.person
    if person is None or not person.team:
        return _say(actor, "leader_done_by_team" if _is_leader(actor) else "leader_no_team")
    number = _number(actor, rest, "net_task_number")
    if isinstance(number, str):
        return number
    found = store.task(session, number)
    if found is None:  # a member's hint points to their own list, not the leader's
        return _say(actor, "leader_my_task_unknown", number=number)
    row = store.task_row_of_team(session, found.id, person.team)
    if row is None or row.status == "cancelled":
        return _say(actor, "leader_task_not_yours", id=found.id, team=person.team)
    if row.status == "done":
        return _say(actor, "net_t_already", title=found.title, name=row.done_by_name or "?")
    net.mark_done(session, now, row, found, person)
    return _say(actor, "net_t_done_edit", title=found.title, team=row.team)


# --------------------------------------------------------------------------- påminn


def remind(
    session: Session, actor: Actor, args: list[str], now: dt.datetime, tz: dt.tzinfo
) -> list[str]:
    words = split_args(args)
    if len(words) < 2:
        return [_say(actor, "net_remind_help")]
    kind = {
        "samling": "gathering",
        "gathering": "gathering",
        "oppgave": "task",
        "task": "task",
    }.get(words[0].lower())
    if kind is None or not words[1].lstrip("#").isdigit():
        return [_say(actor, "net_remind_help")]
    if int(words[1].lstrip("#")) > MAX_ID:
        return [t(actor.lang, "day_no_such_number", number=words[1].lstrip("#")[:30])]
    team = None
    if len(words) > 2 and words[2].lower() not in ALL:
        team = net.resolve_team(session, " ".join(words[2:]))
        if team is None:
            listed = ", ".join(net.teams(session)) or "–"
            return [_say(actor, "net_team_unknown", team=" ".join(words[2:]), teams=listed)]
    number = int(words[1].lstrip("#"))
    if kind == "gathering":
        g = store.gathering(session, number)
        if g is not None and g.status not in LIVE_GATHERING:  # cancelled, held: nothing to remind
            return [
                _say(actor, "net_remind_not_live", number=number, status=_status(actor, g.status))
            ]
    if kind == "task":
        item = store.task(session, number)
        if item is not None and tasks_change.is_cancelled(session, item):
            return [_say(actor, "leader_task_is_cancelled", id=number)]
    result = net.remind_now(session, tz, now, kind, number, team)
    if result is None:
        return [_say(actor, f"net_{kind}_unknown", number=number)]
    sent, later = result
    if sent + later == 0:
        return [_say(actor, f"net_remind_nobody_{kind}")]
    text = _say(actor, "net_remind_sent", sent=sent)
    if later:
        text += " " + _say(actor, "net_remind_later", later=later)
    return [text]


# --------------------------------------------------------------------------- chat glue


def _tz(ctx: Context) -> dt.tzinfo:
    return ctx.engine.config.tz


def _reply(lines: list[str]) -> Reply:
    return Reply([OutgoingMessage(line) for line in lines])


MAX_LISTED = 10


def my_gatherings(ctx: Context) -> Reply:
    """`/samlinger`: the leader's full list; for a team member the upcoming gatherings, each
    in full with their own "Kommer du?" answer."""
    actor = Actor(ctx.person, ctx.lang)
    if _is_leader(actor):
        return gathering_command(ctx)
    if not ctx.person.team:
        return _reply([_say(actor, "leader_no_team")])
    rows = store.live_gatherings_ahead(ctx.session, ctx.now, LIVE_GATHERING)[:MAX_LISTED]
    if not rows:
        return _reply([_say(actor, "leader_my_no_gatherings")])
    return _reply([card(ctx.session, g, _tz(ctx), actor, False) for g in rows])


def my_tasks(ctx: Context) -> Reply:
    """`/oppgaver`: the leader's full list; for a team member the team's open tasks, each
    with the Ferdig/Utsett buttons of the reminders."""
    actor = Actor(ctx.person, ctx.lang)
    if _is_leader(actor):
        return task_command(ctx)
    person = ctx.person
    if not person.team:
        return _reply([_say(actor, "leader_no_team")])
    rows = net.open_tasks_of(ctx.session, person.team, ctx.now, _tz(ctx))[:MAX_LISTED]
    if not rows:
        return _reply([_say(actor, "leader_my_no_tasks", team=person.team)])
    messages = [OutgoingMessage(_say(actor, "leader_my_tasks_head", team=person.team))]
    for item, row in rows:
        text = _say(
            actor, "leader_my_task", id=item.id, title=item.title,
            due=net.fmt_day(item.due_on, ctx.lang),
        )  # fmt: skip
        if item.description:
            text += "\n" + item.description
        messages.append(
            OutgoingMessage(text, net.task_buttons(ctx.session, person, item, row, ctx.now))
        )
    return Reply(messages)


def attend_command(ctx: Context) -> Reply:
    """`/kommer N ja|nei|digitalt`: answer or change "Kommer du?" by typing."""
    actor = Actor(ctx.person, ctx.lang)
    words = list(ctx.args)
    if not ctx.person.team:  # before "how to answer": there is nothing for them to answer
        return _reply([_say(actor, "leader_no_team")])
    if len(words) != 2:
        return _reply([_say(actor, "leader_attend_how", id="N")])
    number = _number(actor, words[:1], "net_gathering_number")
    if isinstance(number, str):
        return _reply([number])
    found = store.gathering(ctx.session, number)
    if found is None:
        return _reply([_say(actor, "leader_my_gathering_unknown", number=number)])
    value = attendance.answer_word(words[1]) or ""
    return _reply([attendance.answer(ctx.session, found, ctx.person, value, ctx.now)])


def attend_prompt(ctx: Context, prompt: Prompt) -> Reply:
    """A Ja/Nei/Digitalt press (the token was checked and used up by the engine)."""
    gathering_id, _, version = (prompt.ref or "").partition(":v")
    g = store.gathering(ctx.session, int(gathering_id)) if gathering_id.isdigit() else None
    number = int(version) if version.isdigit() else None
    text = attendance.answer(ctx.session, g, ctx.person, ctx.args[0], ctx.now, number or -1)
    return Reply(edit=OutgoingMessage(text))


MEMBER_VIEWS = ("", "liste", "list", "ls", "vis", "show")


def gathering_command(ctx: Context) -> Reply:
    """`/samling …` for the leader; a member's `/samling liste` or `vis N` shows their own
    view (as /samlinger), anything else is refused with where to look instead."""
    actor = Actor(ctx.person, ctx.lang)
    if not _is_leader(actor):
        words = [w.lower() for w in ctx.args]
        if (words[0] if words else "") not in MEMBER_VIEWS:
            return _reply([_say(actor, "not_allowed") + " " + _say(actor, "leader_see_own")])
        if len(words) > 1 and ctx.person.team:
            found = _gathering(ctx.session, actor, list(ctx.args[1:2]))
            if isinstance(found, Gathering):
                return _reply([card(ctx.session, found, _tz(ctx), actor, False)])
            return _reply([_say(actor, "leader_my_gathering_unknown", number=ctx.args[1][:30])])
        return my_gatherings(ctx)
    return _reply(gathering(ctx.session, actor, list(ctx.args), ctx.now, _tz(ctx)))


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
        return _reply([_hours(actor, "net_hours_default", default)])
    if not text:
        mine = net.window_for(ctx.session, ctx.person.id, default)
        return _reply([_hours(actor, "net_hours_current", mine)])
    try:
        window = Window.parse(text)
    except ValueError:
        return _reply([_say(actor, "net_hours_invalid")])
    net.set_window(ctx.session, ctx.person.id, window)
    return _reply([_hours(actor, "net_hours_set", window)])


def _hours(actor: Actor, key: str, window: Window) -> str:
    return _say(actor, key, start=f"{window.start:%H:%M}", end=f"{window.end:%H:%M}")


def task_prompt(ctx: Context, prompt: Prompt) -> Reply:
    edit = net.task_button(ctx.session, _tz(ctx), ctx.now, ctx.person, prompt, ctx.args[0])
    return Reply(edit=edit)


def register(engine: Conversation) -> None:
    """Add the network's commands and the Ferdig/Utsett buttons to an engine."""
    add = engine.commands.add
    add(
        ("samling", "gathering"),
        gathering_command,
        roles=set(ROLES),  # members: their own view only (gathering_command checks)
        summary='/samling ny "Tittel" 12.03.2027 09:00 Sted | liste | vis | flytt | avlys | holdt',
    )
    # Everyone may type /oppgave (members: `/oppgave ferdig N`); task() refuses the rest to
    # anyone but the leader. Listed with roles so that it stays in the leader's help.
    add(
        ("oppgave", "oppgåve", "task"),
        task_command,
        roles=set(ROLES),
        summary='/oppgave ny "Tittel" frist 05.03.2027 alle | liste | status | flytt | avlys'
        " | slett | endre",
    )
    # Nynorsk spellings are typed as often as the bokmål names the menus show.
    add(("samlinger", "samlingar", "gatherings"), my_gatherings)  # a member's own team's plan
    add(("oppgaver", "oppgåver", "tasks"), my_tasks)
    add(("kommer", "kjem", "attend"), attend_command)
    add(
        ("påminn", "paminn", "pamin", "remind"),
        remind_command,
        roles=LEADERS,
        summary="/påminn samling N [lag] | /påminn oppgave N [lag]",
    )
    add(("arbeidstid", "hours"), hours_command)
    engine.prompt_handlers["task"] = task_prompt
    engine.prompt_handlers[attendance.PURPOSE] = attend_prompt
    from bot.dashboard.commands import register as register_dashboard

    register_dashboard(engine)  # /styring (issue 12)
