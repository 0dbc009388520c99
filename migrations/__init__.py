"""Alembic migrations of Levante's database (SQLite and PostgreSQL)."""
