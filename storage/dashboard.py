"""Access to the steering group's dashboard, and the figures it shows that the chat has not.

Access: a personal one-time link (valid 15 minutes) is exchanged once for a session (8 hours).
Only a SHA-256 hash of either token is stored, so a copy of the database lets nobody in; a
link is marked used in the same transaction that creates the session, so it works once.
Only people with role `steering` or `leader` (the project leader) get a link or a session.

Figures: the heatmap (municipality × factor gap) is a new view of the answers, so it goes
through the release ledger like every other figure: `release_gap_grid` reads the cells
released before, holds back a factor's whole breakdown when a cell differs by 1..k−1 from
one already shown, and records what it shows. `release_rounds` does the same for every
closed round's trend figures, from the moments sealed at close (surveys/round_figures.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import ForeignKey, Integer, String, cast, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import releases
from storage.models import Base, Facet, Invitation, Person, Prompt, Round, UTCDateTime
from storage.network_models import Gathering, Task, TaskTeam
from surveys import disclosure, round_figures
from surveys.grid import GridRow, gap_grid, grid_cells, held
from surveys.round_figures import RoundFigures
from surveys.summary import factor_stats_by_round

LINK_VALID = dt.timedelta(minutes=15)
SESSION_VALID = dt.timedelta(hours=8)
ROLES = frozenset({"steering", "leader"})


class DashboardToken(Base):
    """A one-time link or a session, by the hash of its token only."""

    __tablename__ = "dashboard_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # link | session
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_see(person: Person | None) -> bool:
    return person is not None and person.role in ROLES and person.status != "stopped"


def find_person(session: Session, name: str) -> Person | None:
    """A person by exact name or key (e-mail), case-insensitive."""
    wanted = name.strip().lower()
    return session.scalar(
        select(Person).where(
            (func.lower(Person.name) == wanted) | (func.lower(Person.key) == wanted)
        )
    )


def issue_link(session: Session, person: Person, now: dt.datetime) -> str | None:
    """A new one-time link token for someone allowed in (None for anyone else)."""
    if not may_see(person):
        return None
    token = secrets.token_urlsafe(32)
    session.add(DashboardToken(person_id=person.id, kind="link", token_hash=token_hash(token),
                               created_at=now, expires_at=now + LINK_VALID))  # fmt: skip
    session.flush()
    return token


def redeem_link(session: Session, token: str, now: dt.datetime) -> str | None:
    """Exchange an unused, unexpired link for a session token; the link is spent."""
    row = session.scalar(
        select(DashboardToken)
        .where(DashboardToken.token_hash == token_hash(token), DashboardToken.kind == "link")
        .with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now  # spent even if the person may no longer see it
    if not may_see(session.get(Person, row.person_id)):
        return None
    fresh = secrets.token_urlsafe(32)
    session.add(DashboardToken(person_id=row.person_id, kind="session",
                               token_hash=token_hash(fresh), created_at=now,
                               expires_at=now + SESSION_VALID))  # fmt: skip
    session.flush()
    return fresh


def session_person(session: Session, token: str | None, now: dt.datetime) -> Person | None:
    """Who holds this session token, if it is valid and they may still see the dashboard."""
    if not token:
        return None
    row = session.scalar(
        select(DashboardToken).where(
            DashboardToken.token_hash == token_hash(token), DashboardToken.kind == "session"
        )
    )
    if row is None or row.expires_at <= now:
        return None
    person = session.get(Person, row.person_id)
    return person if may_see(person) else None


# --------------------------------------------------------------------------- figures


def release_gap_grid(
    session: Session, round_id: int, k: int, source: str, today: dt.date
) -> dict[str, GridRow]:
    """Factor → the gap per municipality as it may be shown now, recorded in the ledger."""
    rows = session.execute(
        select(Facet.item, Facet.group_value, Facet.value, Facet.value2).where(
            Facet.round_id == round_id,
            Facet.facet == "municipality",
            Facet.item != "",
            Facet.value2.is_not(None),
        )
    ).all()
    grid = gap_grid(((str(i), g or "", e, m) for i, g, e, m in rows), k)
    before = releases.released(session, [round_id])
    shown: dict[str, GridRow] = {}
    cells: list[disclosure.Cell] = []
    for factor_id, row in grid.items():
        mine = grid_cells(round_id, row)
        if disclosure.differing(mine, before, k):
            row = held(row)
            mine = grid_cells(round_id, row)
        shown[factor_id] = row
        cells += mine
    releases.record(session, cells, source, today, before)
    return shown


def participation_totals(session: Session, round_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Round → (invited, finished), one grouped count over the invitations (never who)."""
    if not round_ids:
        return {}
    rows = session.execute(
        select(
            Invitation.round_id,
            func.count(Invitation.id),
            func.sum(cast(Invitation.status == "finished", Integer)),
        )
        .where(Invitation.round_id.in_(sorted(set(round_ids))))
        .group_by(Invitation.round_id)
    )
    return {int(r): (int(invited or 0), int(done or 0)) for r, invited, done in rows}


def release_rounds(
    session: Session,
    rounds: Sequence[tuple[int, int]],
    factor_ids: Sequence[str],
    k: int,
    source: str,
    today: dt.date,
) -> dict[int, RoundFigures]:
    """Round id → its trend figures as they may be shown now, recorded in the ledger.

    `rounds`: (id, number) of closed rounds. From the moments sealed at close (one read for
    all rounds), the invitations (one grouped count) and the ledger (one read), instead of a
    full summary per round; the release rule and the cells are those of the full summary.
    """
    from storage.summaries import trend_moments

    if not rounds:
        return {}
    ids = [i for i, _ in rounds]
    moments, quits = trend_moments(session, ids)
    stats = factor_stats_by_round(moments, factor_ids, k)
    quit_counts = {int(r.round_id): (int(r.n), int(r.yes)) for r in quits.itertuples()}
    totals = participation_totals(session, ids)
    before = releases.released(session, ids)
    ledger = round_figures.by_round(before)
    out: dict[int, RoundFigures] = {}
    cells: list[disclosure.Cell] = []
    for round_id, number in rounds:
        draft = round_figures.from_moments(
            round_id, number, stats.get(round_id), quit_counts.get(round_id),
            totals.get(round_id, (0, 0)), factor_ids, k,
        )  # fmt: skip
        out[round_id], mine = round_figures.release(draft, ledger.get(round_id, []), k)
        cells += mine
    releases.record(session, cells, source, today, before)
    return out


@dataclass(frozen=True)
class FactorTask:
    """A learning-network task tied to a factor, with how many teams have done it."""

    task_id: int
    title: str
    factor_id: str
    due_on: dt.date
    done: int
    teams: int
    created_at: dt.datetime | None = None
    # The round before the task was created and its released experienced mean (None where
    # not shown); filled in by bot.summaries.task_trends, never here.
    baseline: tuple[int, float | None] | None = None
    # Cancelled (bot/network_tasks.cancel_task): its open teams' rows say so; never "open".
    cancelled: bool = False


def factor_tasks(session: Session) -> dict[str, list[FactorTask]]:
    """Factor → its tasks (newest due first), each with done and total teams."""
    tasks = session.scalars(
        select(Task).where(Task.factor_id.is_not(None)).order_by(Task.due_on.desc())
    ).all()
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # done, teams, cancelled
    if tasks:
        for task_id, status in session.execute(
            select(TaskTeam.task_id, TaskTeam.status).where(
                TaskTeam.task_id.in_([t.id for t in tasks])
            )
        ):
            counts[task_id][1] += 1
            counts[task_id][0] += status == "done"
            counts[task_id][2] += status == "cancelled"
    out: dict[str, list[FactorTask]] = defaultdict(list)
    for t in tasks:
        assert t.factor_id is not None
        done, teams, cancelled = counts[t.id]
        task = FactorTask(t.id, t.title, t.factor_id, t.due_on, done, teams, t.created_at)
        out[t.factor_id].append(replace(task, cancelled=cancelled > 0))
    return dict(out)


def closed_round_numbers(session: Session) -> list[tuple[int, int]]:
    """(id, number) of every closed round, oldest first: the rounds the dashboard shows."""
    rows = session.execute(
        select(Round.id, Round.number).where(Round.status == "closed").order_by(Round.number)
    ).all()
    return [(int(i), int(n)) for i, n in rows]


def closed_rounds(session: Session) -> list[tuple[int, int, dt.datetime]]:
    """(id, number, closed at) of every closed round, oldest first."""
    rows = session.execute(
        select(Round.id, Round.number, Round.closed_at)
        .where(Round.status == "closed", Round.closed_at.is_not(None))
        .order_by(Round.number)
    ).all()
    return [(int(i), int(n), c) for i, n, c in rows if c is not None]


# --------------------------------------------------------------------------- priority buttons


def leaders(session: Session) -> list[Person]:
    """Everyone with the project leader's role who has not stopped (they get the buttons)."""
    query = select(Person).where(Person.role == "leader", Person.status != "stopped")
    return list(session.scalars(query.order_by(Person.id)))


def next_gathering(session: Session, now: dt.datetime, live: Sequence[str]) -> Gathering | None:
    """The first gathering still to come (in one of the `live` statuses)."""
    return session.scalar(
        select(Gathering)
        .where(Gathering.status.in_(list(live)), Gathering.starts_at > now)
        .order_by(Gathering.starts_at, Gathering.id)
        .limit(1)
    )


def newest_task_id(session: Session) -> int:
    return int(session.scalar(select(func.max(Task.id))) or 0)


def factor_task_since(session: Session, factor_id: str, since: dt.datetime) -> Task | None:
    """A task tied to this factor created at or after `since` (the round's close)."""
    return session.scalar(
        select(Task)
        .where(Task.factor_id == factor_id, Task.created_at >= since)
        .order_by(Task.id)
        .limit(1)
    )


def round_closed_at(session: Session, number: int) -> dt.datetime | None:
    return session.scalar(select(Round.closed_at).where(Round.number == number))


def unclaim(session: Session, token: str) -> None:
    """Make a claimed prompt pressable again: a refused press changes nothing."""
    session.execute(update(Prompt).where(Prompt.token == token).values(used_at=None))
