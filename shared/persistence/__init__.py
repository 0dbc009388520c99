"""Persistence: models, connections, migrations and the repository."""
