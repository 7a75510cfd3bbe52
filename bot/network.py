"""The learning network: gatherings, tasks, reminders and scheduled pulse rounds.

Every operation runs inside the caller's transaction and writes its messages into the
durable outbox in that same transaction, so a change and the messages it causes are stored
together or not at all. Planned reminders are rows (`reminders`) until they are due; then
`queue_due_reminders` checks they are still relevant (gathering not passed or moved, task not
done, the person's working hours) and turns them into outbox rows, once.

This module is the policy; the rows are read and written in storage/network.py.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import attendance
from bot.i18n import t
from bot.ports import Choice, OutgoingMessage
from storage import answers, outbox, people, prompts
from storage import attendance as attendance_store
from storage import network as store
from storage.models import Address, Person, Prompt
from storage.network_models import Gathering, Network, Reminder, Task, TaskTeam, WorkWindow
from surveys.network import (
    LIVE_GATHERING,
    Cadence,
    Policy,
    Window,
    due_pulse,
    first_pulse,
    gathering_plan,
    local_day,
    local_to_utc,
    nudge_time,
    parse_clock,
    snooze_until,
    task_deadline,
    task_plan,
)

if TYPE_CHECKING:
    from bot.conversation import Conversation

log = logging.getLogger(__name__)

DEFAULT_LENGTH = dt.timedelta(hours=6)  # a gathering without an end time (for expiry only)
MAX_TASKS_IN_GATHERING = 10  # open tasks listed in one gathering reminder
MAX_PARTS = MAX_TASKS_IN_GATHERING + 1  # outbox rows one reminder can become
ASK_STEP = "d2"  # the reminder that asks "Kommer du?"
FOLD_AFTER = dt.timedelta(days=1)  # per-person attendance kept at most this long after the end
KIND = "reminder"


# --------------------------------------------------------------------------- dates in texts


def fmt_day(day: dt.date, lang: str) -> str:
    """`torsdag 12. mars 2027` in the person's language (names from the catalogue)."""
    weekday = t(lang, "net_weekdays").split()[day.weekday()]
    month = t(lang, "net_months").split()[day.month - 1]
    return t(lang, "net_day", weekday=weekday, day=day.day, month=month, year=day.year)


def fmt_when(moment: dt.datetime, tz: dt.tzinfo, lang: str) -> str:
    """`torsdag 12. mars 2027 kl. 09:00` on the local clock."""
    local = moment.astimezone(tz)
    return t(lang, "net_when", day=fmt_day(local.date(), lang), time=f"{local:%H:%M}")


def fmt_span(starts: dt.datetime, ends: dt.datetime, tz: dt.tzinfo, lang: str) -> str:
    """`fredag 12. mars 2027 kl. 09:00–15:00` (the end's day too when it is another day)."""
    start, end = starts.astimezone(tz), ends.astimezone(tz)
    if end.date() != start.date():
        return t(
            lang, "leader_span_days", start=fmt_when(starts, tz, lang), end=fmt_when(ends, tz, lang)
        )
    return t(
        lang,
        "leader_span",
        day=fmt_day(start.date(), lang),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
    )


def gathering_details(g: Gathering, lang: str, where: bool = True) -> list[str]:
    """The lines under a gathering's heading: place and link (unless `where` is off), tema,
    programme — the same in the reminder and on the gathering's card."""
    lines = []
    if where and g.place:
        lines.append(t(lang, "net_g_place", place=g.place))
    if where and g.online_link:
        lines.append(t(lang, "net_g_link", link=g.online_link))
    if g.theme:
        lines.append(t(lang, "net_g_theme", theme=g.theme))
    if g.programme:
        lines.append(t(lang, "net_g_programme", programme=g.programme))
    return lines


def gathering_when(g: Gathering, tz: dt.tzinfo, lang: str) -> str:
    """Start–end when the leader gave the end time, else only the start (a default end is
    no fact to show). Older rows without the flag show an end that is not the default."""
    given = g.end_given
    if given is None:
        given = g.ends_at - g.starts_at != DEFAULT_LENGTH
    return fmt_span(g.starts_at, g.ends_at, tz, lang) if given else fmt_when(g.starts_at, tz, lang)


def fmt_left(target: dt.date, today: dt.date, lang: str) -> str:
    days = (target - today).days
    if days <= 0:
        return t(lang, "net_today")
    if days == 1:
        return t(lang, "net_tomorrow")
    return t(lang, "net_in_days", n=days)


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True)
class NetworkDefaults:
    """What settings say a network should be (applied at start of `beholde serve`)."""

    name: str = "læringsnettverket"
    policy: Policy = field(default_factory=Policy)
    cadence: Cadence = field(default_factory=Cadence)
    pulse_enabled: bool = True


def ensure_network(
    session: Session, now: dt.datetime, defaults: NetworkDefaults | None = None
) -> Network:
    """The network (one per installation), created with defaults when missing.

    With `defaults`, the stored policy and cadence are brought in line with them.
    """
    net = store.first_network(session)
    if net is None:
        net = store.add_network(session, now, "læringsnettverket")
        defaults = defaults or NetworkDefaults()
    if defaults is not None:
        cadence_changed = net.next_pulse_at is not None and (
            net.pulse_weekday != defaults.cadence.weekday
            or net.pulse_at != f"{defaults.cadence.at:%H:%M}"
            or net.pulse_every_weeks != defaults.cadence.every_weeks
        )
        net.name = defaults.name
        net.task_days = list(defaults.policy.task_days)
        net.gathering_days = list(defaults.policy.gathering_days)
        net.remind_at = f"{defaults.policy.at:%H:%M}"
        net.work_start = f"{defaults.policy.window.start:%H:%M}"
        net.work_end = f"{defaults.policy.window.end:%H:%M}"
        net.pulse_enabled = defaults.pulse_enabled
        net.pulse_weekday = defaults.cadence.weekday
        net.pulse_at = f"{defaults.cadence.at:%H:%M}"
        net.pulse_every_weeks = defaults.cadence.every_weeks
        net.pulse_open_days = defaults.cadence.days
        if cadence_changed:
            net.next_pulse_at = None  # recomputed from the new cadence on the next tick
    session.flush()
    return net


def _clock(text: str, fallback: dt.time) -> dt.time:
    return parse_clock(text) or fallback


def policy_of(net: Network) -> Policy:
    return Policy(
        task_days=tuple(net.task_days),
        gathering_days=tuple(net.gathering_days),
        at=_clock(net.remind_at, dt.time(9, 0)),
        window=Window(_clock(net.work_start, dt.time(8, 0)), _clock(net.work_end, dt.time(20, 0))),
    )


def cadence_of(net: Network) -> Cadence:
    return Cadence(
        weekday=net.pulse_weekday,
        at=_clock(net.pulse_at, dt.time(9, 0)),
        every_weeks=net.pulse_every_weeks,
        days=net.pulse_open_days,
    )


def _own_window(row: WorkWindow | None) -> Window | None:
    if row is None:
        return None
    start, end = parse_clock(row.start), parse_clock(row.end)
    return Window(start, end) if start and end else None


def window_for(session: Session, person_id: int, default: Window) -> Window:
    return _own_window(store.work_window(session, person_id)) or default


def set_window(session: Session, person_id: int, window: Window | None) -> None:
    """A person's own hours (None: back to the network's)."""
    hours = (f"{window.start:%H:%M}", f"{window.end:%H:%M}") if window else None
    store.set_work_window(session, person_id, hours)


# --------------------------------------------------------------------------- teams

teams = store.teams
members = store.members


def resolve_team(session: Session, text: str) -> str | None:
    wanted = text.strip().casefold()
    for team in teams(session):
        if team.casefold() == wanted:
            return team
    return None


# --------------------------------------------------------------------------- sending


def send(
    session: Session,
    person: Person,
    messages: list[OutgoingMessage],
    key: str,
    now: dt.datetime,
    *,
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    address: Address | None = None,
    quiet: tuple[Window, dt.tzinfo] | None = None,
) -> int:
    """Put messages for one person into the outbox, in this transaction (dedupe by key).

    `quiet` (the person's hours and time zone) travels with the row, so that a retry after a
    failed send also waits for those hours instead of arriving at night.
    """
    address = address or people.preferred_address(session, person.id)
    if address is None:
        return 0
    payloads = [message.to_payload() for message in messages]
    if quiet is not None:
        for payload in payloads:
            payload["window"], payload["tz"] = str(quiet[0]), str(quiet[1])
    return outbox.enqueue_all(
        session,
        key=key,
        platform=address.platform,
        chat_id=address.chat_id,
        kind=KIND,
        payloads=payloads,
        now=now,
        person_id=person.id,
        not_before=not_before,
        expires_at=expires_at,
    )


def _add_reminder(
    session: Session,
    key: str,
    kind: str,
    person_id: int,
    step: str,
    fire_at: dt.datetime,
    expires_at: dt.datetime,
    now: dt.datetime,
    gathering_id: int | None = None,
    task_id: int | None = None,
) -> bool:
    return store.add_reminder(
        session,
        key=key,
        kind=kind,
        gathering_id=gathering_id,
        task_id=task_id,
        person_id=person_id,
        step=step,
        fire_at=fire_at,
        expires_at=expires_at,
        created_at=now,
    )


# --------------------------------------------------------------------------- gatherings


def _windows(session: Session, ids: Iterable[int] | None = None) -> dict[int, Window]:
    """Personal hours (everyone's, or these people's) in one query: planning thousands of
    reminders at once."""
    out = {}
    for row in store.work_windows(session, ids):
        window = _own_window(row)
        if window is not None:
            out[row.person_id] = window
    return out


def plan_gathering(
    session: Session, net: Network, g: Gathering, tz: dt.tzinfo, now: dt.datetime
) -> int:
    """Plan every team member's reminders for the gathering's current version."""
    policy = policy_of(net)
    own = _windows(session)
    rows: list[dict[str, object]] = []
    plans: dict[Window, list] = {}
    for person in store.rostered_members(session):
        window = own.get(person.id, policy.window)
        if window not in plans:
            plans[window] = gathering_plan(g.starts_at, policy, tz, now, window)
        for item in plans[window]:
            rows.append(
                {
                    "key": f"g:{g.id}:v{g.version}:{item.step}:p{person.id}",
                    "kind": "gathering",
                    "gathering_id": g.id,
                    "task_id": None,
                    "person_id": person.id,
                    "step": item.step,
                    "fire_at": item.fire_at,
                    "expires_at": g.starts_at,
                    "status": "planned",
                    "created_at": now,
                }
            )
    return store.insert_new_reminders(session, rows, f"g:{g.id}:v{g.version}:")


def add_gathering(
    session: Session,
    tz: dt.tzinfo,
    now: dt.datetime,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    place: str | None = None,
    link: str | None = None,
    theme: str | None = None,
    end_given: bool | None = None,
) -> tuple[Gathering, int]:
    net = ensure_network(session, now)
    g = store.add_gathering(
        session,
        network_id=net.id,
        title=title,
        theme=theme,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        online_link=link,
        end_given=end_given,
        status="planned",
        version=1,
        created_at=now,
        updated_at=now,
    )
    return g, plan_gathering(session, net, g, tz, now)


def gatherings(
    session: Session, include_past: bool = False, now: dt.datetime | None = None
) -> list[Gathering]:
    since = None if include_past or now is None else now - dt.timedelta(days=30)
    return store.gatherings(session, since)


def _tell_members(
    session: Session,
    key: str,
    now: dt.datetime,
    render: Callable[[str], str],
    expires_at: dt.datetime | None = None,
    ask: Callable[[Person, str], OutgoingMessage | None] | None = None,
) -> int:
    """One message to every member; `ask` may turn a person's message into a question."""
    told = 0
    for person in members(session):
        text = render(person.language)
        asked = ask(person, text) if ask else None
        told += bool(
            send(
                session,
                person,
                [asked or OutgoingMessage(text)],
                f"{key}:p{person.id}",
                now,
                expires_at=expires_at,
            )
        )
    return told


def move_gathering(
    session: Session,
    tz: dt.tzinfo,
    now: dt.datetime,
    g: Gathering,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    end_given: bool = False,
) -> tuple[int, int]:
    """New date: old reminders withdrawn, new ones planned, every member told once; those
    who had answered "Kommer du?" are asked again (their answer was for the old date)."""
    net = ensure_network(session, now)
    store.withdraw_gathering_reminders(session, now, g.id, "moved", MAX_PARTS)
    before = attendance_store.answers_by_person(session, g.id)
    attendance_store.forget_answers(session, g.id)  # given for the old date
    g.starts_at, g.ends_at = starts_at, ends_at
    if end_given:
        g.end_given = True
    g.version += 1
    g.status = "moved" if g.status != "replaced_by_webinar" else g.status
    g.updated_at = now
    session.flush()
    planned = plan_gathering(session, net, g, tz, now)
    told = _tell_members(
        session,
        f"g:{g.id}:moved:v{g.version}",
        now,
        lambda lang: t(lang, "net_g_moved", title=g.title, when=fmt_when(starts_at, tz, lang)),
        expires_at=starts_at,
        ask=lambda person, text: _ask_again(session, g, person, before, text, now),
    )
    return planned, told


def _ask_again(
    session: Session,
    g: Gathering,
    person: Person,
    before: dict[int, str],
    text: str,
    now: dt.datetime,
) -> OutgoingMessage | None:
    """The moved notice with "Kommer du?" again, for someone who had answered."""
    old = before.get(person.id)
    if old is None or not person.team:
        return None
    lang = person.language
    asked = attendance.question(session, g, person, now)
    was = t(lang, "walk_attend_before", answer=t(lang, f"leader_attend_{old}"))
    return OutgoingMessage(f"{text}\n{was}\n{asked.text}", asked.choices)


def cancel_gathering(session: Session, tz: dt.tzinfo, now: dt.datetime, g: Gathering) -> int:
    store.withdraw_gathering_reminders(session, now, g.id, "cancelled", MAX_PARTS)
    attendance_store.forget_answers(session, g.id)
    g.status = "cancelled"
    g.updated_at = now
    session.flush()
    return _tell_members(
        session,
        f"g:{g.id}:cancelled",
        now,
        lambda lang: t(
            lang, "net_g_cancelled", title=g.title, when=fmt_when(g.starts_at, tz, lang)
        ),
        expires_at=g.ends_at,
    )


def webinar_gathering(
    session: Session, tz: dt.tzinfo, now: dt.datetime, g: Gathering, link: str
) -> int:
    """Replaced by a webinar: reminders stay (they show the link), members told once."""
    g.status = "replaced_by_webinar"
    g.online_link = link
    g.updated_at = now
    session.flush()
    return _tell_members(
        session,
        f"g:{g.id}:webinar:v{g.version}",
        now,
        lambda lang: t(
            lang, "net_g_to_webinar", title=g.title, when=fmt_when(g.starts_at, tz, lang), link=link
        ),
        expires_at=g.ends_at,
    )


def mark_held(
    session: Session, now: dt.datetime, g: Gathering, came: dict[str, int] | None = None
) -> None:
    """Held: reminders withdrawn, per-person attendance folded into counts per team (and
    deleted), and the leader's count of who came per team stored."""
    store.withdraw_gathering_reminders(session, now, g.id, "held", MAX_PARTS)
    if g.status != "held":
        attendance_store.fold_into_counts(session, g.id)
    if came:
        attendance_store.record_came(session, g.id, came)
    g.status = "held"
    g.updated_at = now
    session.flush()


def gathering_messages(
    session: Session,
    g: Gathering,
    person: Person,
    tz: dt.tzinfo,
    now: dt.datetime,
    ask: bool = False,
) -> list[OutgoingMessage]:
    """What a member sees: the gathering, then each open task of their team with buttons;
    with `ask`, last the question "Kommer du?" (Ja / Nei / Digitalt)."""
    lang = person.language
    today = local_day(now, tz)
    lines = [
        t(
            lang,
            "net_g_remind",
            title=g.title,
            when=gathering_when(g, tz, lang),
            left=fmt_left(local_day(g.starts_at, tz), today, lang),
        )
    ]
    if g.status == "replaced_by_webinar" and g.online_link:
        lines.append(t(lang, "net_g_webinar", link=g.online_link))
        lines += gathering_details(g, lang, where=False)
    else:
        lines += gathering_details(g, lang)
    open_tasks = open_tasks_of(session, person.team, now, tz) if person.team else []
    if person.team:
        lines.append(t(lang, "net_g_tasks" if open_tasks else "net_g_no_tasks"))
    asked = attendance.question(session, g, person, now) if ask and person.team else None
    if asked is not None:  # "Kommer du?" last, just above its Ja / Nei / Digitalt buttons
        lines.append(asked.text)
    messages = [OutgoingMessage("\n".join(lines), asked.choices if asked else ())]
    for task, row in open_tasks[:MAX_TASKS_IN_GATHERING]:
        text = t(lang, "net_t_item", title=task.title, due=fmt_day(task.due_on, lang))
        messages.append(OutgoingMessage(text, task_buttons(session, person, task, row, now)))
    return messages


# --------------------------------------------------------------------------- tasks


def add_task(
    session: Session,
    tz: dt.tzinfo,
    now: dt.datetime,
    title: str,
    due_on: dt.date,
    team: str | None,
    creator: Person | None,
    description: str | None = None,
) -> tuple[Task, int]:
    net = ensure_network(session, now)
    task = store.add_task(
        session,
        [team] if team else teams(session),
        network_id=net.id,
        title=title,
        description=description,
        team=team,
        due_on=due_on,
        created_by=creator.id if creator else None,
        created_by_name=creator.name if creator else "CLI",
        created_at=now,
    )
    return task, plan_task(session, net, task, tz, now)


def plan_task(session: Session, net: Network, task: Task, tz: dt.tzinfo, now: dt.datetime) -> int:
    policy = policy_of(net)
    deadline = task_deadline(task.due_on, tz)
    open_teams = store.open_teams(session, task.id)
    own = _windows(session)
    rows: list[dict[str, object]] = []
    plans: dict[Window, list] = {}
    for person in store.rostered_members(session):
        if person.team not in open_teams:
            continue
        window = own.get(person.id, policy.window)
        if window not in plans:
            plans[window] = task_plan(task.due_on, policy, tz, now, window)
        for item in plans[window]:
            rows.append(
                {
                    "key": f"{task_prefix(task)}{item.step}:p{person.id}",
                    "kind": "task",
                    "gathering_id": None,
                    "task_id": task.id,
                    "person_id": person.id,
                    "step": item.step,
                    "fire_at": item.fire_at,
                    "expires_at": deadline,
                    "status": "planned",
                    "created_at": now,
                }
            )
    return store.insert_new_reminders(session, rows, task_prefix(task))


def task_prefix(task: Task) -> str:
    """The key prefix of a task's planned reminders; a moved task (version 2 on) gets new
    keys, so its new plan never collides with the withdrawn one."""
    version = task.version or 1
    return f"t:{task.id}:" if version == 1 else f"t:{task.id}:v{version}:"


tasks = store.tasks
task_rows = store.task_rows


def open_tasks_of(
    session: Session, team: str, now: dt.datetime, tz: dt.tzinfo
) -> list[tuple[Task, TaskTeam]]:
    return store.open_tasks_of(session, team, local_day(now, tz))


def task_buttons(
    session: Session, person: Person, task: Task, row: TaskTeam, now: dt.datetime
) -> tuple[Choice, ...]:
    token = prompts.create(session, person.id, "task", now, ref=f"{task.id}:{row.id}")
    lang = person.language
    return (
        Choice(t(lang, "net_done"), f"{token}:done"),
        Choice(t(lang, "net_snooze"), f"{token}:snooze"),
    )


def task_message(
    session: Session, task: Task, row: TaskTeam, person: Person, tz: dt.tzinfo, now: dt.datetime
) -> OutgoingMessage:
    lang = person.language
    text = t(
        lang,
        "net_t_remind",
        team=row.team,
        title=task.title,
        due=fmt_day(task.due_on, lang),
        left=fmt_left(task.due_on, local_day(now, tz), lang),
    )
    if task.description:
        text += "\n" + task.description
    return OutgoingMessage(text, task_buttons(session, person, task, row, now))


def mark_done(session: Session, now: dt.datetime, row: TaskTeam, task: Task, person: Person) -> int:
    """Done for the whole team: its reminders stop and the rest of the team is told."""
    row.status = "done"
    row.done_by = person.id
    row.done_by_name = person.name
    row.done_at = now
    store.withdraw_team_task_reminders(session, now, task.id, row.team, "done", MAX_PARTS)
    told = 0
    first = person.name.split(" ")[0]
    for other in members(session, row.team):
        if other.id == person.id:
            continue
        text = t(other.language, "net_t_done_by", name=first, title=task.title)
        told += bool(
            send(
                session,
                other,
                [OutgoingMessage(text)],
                f"t:{task.id}:done:{row.id}:p{other.id}",
                now,
            )
        )
    session.flush()
    return told


def snooze(
    session: Session, tz: dt.tzinfo, now: dt.datetime, task: Task, person: Person
) -> dt.datetime:
    """Remind this person again a day later, in their working hours."""
    net = ensure_network(session, now)
    window = window_for(session, person.id, policy_of(net).window)
    fire = snooze_until(now, tz, window)
    _add_reminder(
        session,
        f"t:{task.id}:snooze:{now:%Y%m%d%H%M%S}:p{person.id}",
        "task",
        person.id,
        "snooze",
        fire,
        task_deadline(task.due_on, tz),
        now,
        task_id=task.id,
    )
    session.flush()
    return fire


def remind_now(
    session: Session, tz: dt.tzinfo, now: dt.datetime, kind: str, ref_id: int, team: str | None
) -> tuple[int, int] | None:
    """The leader's `påminn`: (people reached now, people whose reminder waits for their hours).

    None when the gathering or task does not exist.
    """
    net = ensure_network(session, now)
    default = policy_of(net).window
    now_count = later = 0
    stamp = f"{now:%Y%m%d%H%M%S}"
    if kind == "gathering":
        g = store.gathering(session, ref_id)
        if g is None:
            return None
        for person in members(session, team):
            hours = window_for(session, person.id, default)
            at = hours.fit(now, tz)
            msgs = gathering_messages(session, g, person, tz, at, ask=True)
            if send(
                session,
                person,
                msgs,
                f"g:{g.id}:now:{stamp}:p{person.id}",
                now,
                not_before=at,
                expires_at=g.starts_at,
                quiet=(hours, tz),
            ):
                now_count, later = (now_count + 1, later) if at == now else (now_count, later + 1)
        return now_count, later
    task = store.task(session, ref_id)
    if task is None:
        return None
    deadline = task_deadline(task.due_on, tz)
    for row in task_rows(session, task.id):
        if row.status != "open" or (team is not None and row.team != team):
            continue
        for person in members(session, row.team):
            hours = window_for(session, person.id, default)
            at = hours.fit(now, tz)
            msg = task_message(session, task, row, person, tz, at)
            if send(
                session,
                person,
                [msg],
                f"t:{task.id}:now:{stamp}:p{person.id}",
                now,
                not_before=at,
                expires_at=deadline,
                quiet=(hours, tz),
            ):
                now_count, later = (now_count + 1, later) if at == now else (now_count, later + 1)
    return now_count, later


def task_button(
    session: Session, tz: dt.tzinfo, now: dt.datetime, person: Person, prompt: Prompt, value: str
) -> OutgoingMessage:
    """A Ferdig/Utsett press: what the pressed message becomes."""
    lang = person.language
    task_id, _, row_id = (prompt.ref or "").partition(":")
    task = store.task(session, int(task_id)) if task_id.isdigit() else None
    row = store.task_team(session, int(row_id)) if row_id.isdigit() else None
    if task is None or row is None:
        return OutgoingMessage(t(lang, "net_t_gone"))
    if row.status == "done":
        return OutgoingMessage(
            t(lang, "net_t_already", title=task.title, name=row.done_by_name or "?")
        )
    if value == "done":
        mark_done(session, now, row, task, person)
        log.info("task %s marked done for a team", task.id)
        return OutgoingMessage(t(lang, "net_t_done_edit", title=task.title, team=row.team))
    fire = snooze(session, tz, now, task, person)
    return OutgoingMessage(
        t(lang, "net_t_snoozed", title=task.title, when=fmt_when(fire, tz, lang))
    )


# --------------------------------------------------------------------------- due reminders


next_reminder_at = store.next_reminder_at


def queue_due_reminders(
    session: Session, tz: dt.tzinfo, now: dt.datetime, limit: int = 500
) -> tuple[int, int]:
    """Turn due planned reminders into outbox rows, once; returns (examined, queued).

    Reminders missed while the service was down are sent once: of several due for the same
    person and gathering/task, only the latest goes; one whose gathering has passed, whose
    task is done, or whose person has left the team is dropped, never sent late. One due
    outside the person's working hours waits for the window to open.
    """
    # Answers to "Kommer du?" never outlive their gathering, held-marked or not.
    attendance_store.fold_past(session, now - FOLD_AFTER)
    rows = store.due_reminders(session, now, limit)
    if not rows:
        return 0, 0
    net = ensure_network(session, now)
    default = policy_of(net).window
    latest: dict[tuple[int, str, int | None], Reminder] = {}
    for r in rows:
        group = (r.person_id, r.kind, r.gathering_id or r.task_id)
        previous = latest.get(group)
        if previous is not None:
            previous.status, previous.reason = "dropped", "superseded"
        latest[group] = r
    queued = 0
    ids = {r.person_id for r in latest.values()}
    persons = store.people_by_id(session, ids)
    windows = _windows(session, ids)
    addresses = store.newest_addresses(session, ids)
    for r in latest.values():
        if r.expires_at <= now:
            r.status, r.reason = "dropped", "passed"
            continue
        person = persons.get(r.person_id)
        if (
            person is None
            or person.status == "stopped"
            or person.unreachable_reason
            or not person.team
        ):
            r.status, r.reason = "dropped", "unreachable"
            continue
        window = windows.get(person.id, default)
        if not window.contains(now, tz):
            later = window.fit(now, tz)
            if later < r.expires_at:
                r.fire_at, r.reason = later, "outside hours"
            else:
                r.status, r.reason = "dropped", "outside hours"
            continue
        messages = _render(session, r, person, tz, now)
        if messages is None:
            continue
        address = addresses.get(person.id)
        if address is None:
            r.status, r.reason = "dropped", "unreachable"
            continue
        send(
            session,
            person,
            messages,
            f"rem:{r.id}",
            now,
            expires_at=r.expires_at,
            address=address,
            quiet=(window, tz),
        )
        r.status, r.queued_at = "queued", now
        queued += 1
    session.flush()
    return len(rows), queued


def _render(
    session: Session, r: Reminder, person: Person, tz: dt.tzinfo, now: dt.datetime
) -> list[OutgoingMessage] | None:
    if r.kind == "gathering":
        g = store.gathering(session, r.gathering_id) if r.gathering_id else None
        if g is None or g.status not in LIVE_GATHERING or g.starts_at <= now:
            r.status, r.reason = "dropped", "gathering not live"
            return None
        return gathering_messages(session, g, person, tz, now, ask=r.step == ASK_STEP)
    task = store.task(session, r.task_id) if r.task_id else None
    row = store.task_row_of_team(session, task.id, person.team) if task else None
    if task is None or row is None or row.status != "open":
        r.status, r.reason = "dropped", "task done or not for this team"
        return None
    return [task_message(session, task, row, person, tz, now)]


# --------------------------------------------------------------------------- pulse rounds


def pulse_open_due(
    session: Session, engine: Conversation, tz: dt.tzinfo, now: dt.datetime
) -> int | None:
    """Open the scheduled round if its time has come; returns the round number opened."""
    net = ensure_network(session, now)
    if not net.pulse_enabled:
        return None
    cadence = cadence_of(net)
    if net.next_pulse_at is None:
        net.next_pulse_at = first_pulse(now, cadence, tz)
    slot, following = due_pulse(net.next_pulse_at, now, cadence, tz)
    net.next_pulse_at = following
    if slot is None or answers.current_round(session) is not None:
        return None
    round_ = engine.open_round_in(session, now, cadence.days)
    round_.closes_at = local_to_utc(
        local_day(slot, tz) + dt.timedelta(days=cadence.days), cadence.at, tz
    )
    session.flush()
    return int(round_.number)


def round_to_close(session: Session, now: dt.datetime) -> bool:
    current = answers.current_round(session)
    return current is not None and current.closes_at <= now


def nudge_due(session: Session, tz: dt.tzinfo, now: dt.datetime) -> int:
    """One friendly nudge halfway, to those who have not finished, in their working hours."""
    current = answers.current_round(session)
    if (
        current is None
        or now < nudge_time(current.opened_at, current.closes_at)
        or now >= current.closes_at
    ):
        return 0
    net = ensure_network(session, now)
    default = policy_of(net).window
    nudged = 0
    for invitation, person in store.not_nudged(session, current.id):
        if not window_for(session, person.id, default).contains(now, tz):
            continue
        if not answers.mark_nudged(session, invitation.id, now):
            continue
        text = t(person.language, "nudge", closes=fmt_when(current.closes_at, tz, person.language))
        nudged += bool(
            send(
                session,
                person,
                [OutgoingMessage(text)],
                f"round:{current.number}:nudge:p{person.id}",
                now,
                expires_at=current.closes_at,
            )
        )
    return nudged


plan_counts = store.plan_counts
pending_for = store.pending_for


# --------------------------------------------------------------------------- late joiners


def plan_for_newcomers(session: Session, tz: dt.tzinfo, now: dt.datetime) -> int:
    """Plan the reminders of everyone who joined a team (or got a chat) after a gathering or
    task was planned: each plan inserts only keys not planned before, so those already
    planned get nothing twice. Returns how many reminders were added."""
    network = store.first_network(session)
    if network is None:  # nothing planned yet (and no network to create for it)
        return 0
    added = 0
    for g in store.live_gatherings_ahead(session, now, LIVE_GATHERING):
        added += plan_gathering(session, network, g, tz, now)
    for task in store.open_tasks_ahead(session, local_day(now, tz)):
        added += plan_task(session, network, task, tz, now)
    return added
