"""The migrations and the models describe one schema: a database built by `beholde db
upgrade` has every table, column and index the code expects, and nothing else, on SQLite and
PostgreSQL. (Three changes made side by side each added a migration; an index that only the
migration had went unnoticed once.)"""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import storage
from storage.db import Database
from storage.models import Base


def test_the_migrated_schema_is_the_models_schema(migrated: Database) -> None:
    for module in pkgutil.iter_modules(storage.__path__):  # every model registers itself
        importlib.import_module(f"storage.{module.name}")
    with migrated.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
