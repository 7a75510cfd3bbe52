"""The learning network's queries: the network row, teams, members, gatherings, tasks,
planned reminders and working hours. The policy (what to send when) is in bot/network.py.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.network_models import Network


def first_network(session: Session) -> Network | None:
    """The installation's network (there is one), or None before it was first created."""
    return session.scalar(select(Network).order_by(Network.id).limit(1))
