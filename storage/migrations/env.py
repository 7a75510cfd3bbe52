"""Alembic environment: runs on the engine beholde hands over (never reads alembic.ini URLs)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import storage.dashboard
import storage.network_models
import storage.summary_models  # noqa: F401  (steering-group summary posts)
from storage import teams_models as _teams_models  # noqa: F401  (Teams conversation references)
from storage.db import normalise_url
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no engine and no sqlalchemy.url given to Alembic")
        engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `beholde db upgrade`")
run_migrations_online()
