"""Storage: SQLAlchemy models, repositories, Alembic migrations; where SQL meets pandas."""
