"""The one place SQL meets pandas: anonymous answers and participation as DataFrames — or
as the plain rows those are made of, for a round's summary without pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import pandas as pd

from storage.models import Facet, Invitation, Person, Response, Round

RESPONSE_COLUMNS = [
    "round_id",
    "submission_key",
    "question_id",
    "value",
    "text",
    "complete",
]
# Read with the responses: whether a comment's writer said yes to being quoted.
QUOTE_CONSENT = "quote_ok"
FACET_COLUMNS = ["round_id", "facet", "group_value", "item", "value", "value2"]


def response_rows(session: Session, round_ids: list[int] | None = None) -> list[tuple[Any, ...]]:
    """Anonymous responses as plain tuples in the order of RESPONSE_COLUMNS + quote_ok."""
    query = select(*(getattr(Response, c) for c in (*RESPONSE_COLUMNS, QUOTE_CONSENT)))
    if round_ids is not None:
        query = query.where(Response.round_id.in_(round_ids))
    return [tuple(row) for row in session.execute(query)]


def facet_rows(session: Session, round_ids: list[int] | None = None) -> list[tuple[Any, ...]]:
    """Unlinked facet records as plain tuples in the order of FACET_COLUMNS."""
    query = select(*(getattr(Facet, c) for c in FACET_COLUMNS))
    if round_ids is not None:
        query = query.where(Facet.round_id.in_(round_ids))
    return [tuple(row) for row in session.execute(query)]


def responses(session: Session, round_ids: list[int] | None = None) -> pd.DataFrame:
    """Anonymous responses (never anything from the identity tables)."""
    # Plain tuples: pandas inspects each SQLAlchemy Row for named fields, 8× slower.
    return response_frame(response_rows(session, round_ids))


def response_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=[*RESPONSE_COLUMNS, QUOTE_CONSENT])


def facets(session: Session, round_ids: list[int] | None = None) -> pd.DataFrame:
    """Unlinked facet records: one attribute with the answers needed by it, per row."""
    return facet_frame(facet_rows(session, round_ids))


def facet_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=FACET_COLUMNS)


def participation_counts(session: Session, round_id: int) -> list[tuple[str | None, int, int]]:
    """(municipality, invited, finished) per municipality, without pandas: `round status`
    needs only these few rows, and loading pandas would cost it more than the query."""
    query = (
        select(
            Person.municipality,
            func.count(Invitation.id).label("invited"),
            func.sum(cast(Invitation.status == "finished", Integer)).label("finished"),
        )
        .select_from(Invitation)
        .outerjoin(Person, Person.id == Invitation.person_id)
        .where(Invitation.round_id == round_id)
        .group_by(Person.municipality)
    )
    return [
        (municipality, int(invited or 0), int(finished or 0))
        for municipality, invited, finished in session.execute(query)
    ]


def participation(session: Session, round_id: int) -> pd.DataFrame:
    """Invited and finished per municipality: counts only, from invitations."""
    return participation_frame(participation_counts(session, round_id))


def participation_frame(rows: list[tuple[str | None, int, int]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["municipality", "invited", "finished"])
    frame["finished"] = frame["finished"].fillna(0).astype(int)
    # A skipped municipality stays None (not NaN, which is truthy and no option's value).
    known = frame["municipality"].notna()
    frame["municipality"] = frame["municipality"].astype(object).where(known, None)
    return frame


def rounds(session: Session) -> pd.DataFrame:
    import pandas as pd

    rows = session.execute(
        select(Round.id, Round.number, Round.status, Round.opened_at, Round.closed_at).order_by(
            Round.number
        )
    ).all()
    return pd.DataFrame(rows, columns=["id", "number", "status", "opened_at", "closed_at"])
