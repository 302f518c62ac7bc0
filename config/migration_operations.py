"""Migration operations for what only PostgreSQL has (trigram indexes); nothing elsewhere."""

from django.db import migrations


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL; a no-op on the demo's SQLite, which searches small tables."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(table: str, column: str) -> RunSQLOnPostgreSQL:
    """A trigram index serving Django's `icontains` on PostgreSQL, which renders as
    UPPER(column::text) LIKE UPPER(pattern): the index is on that same expression."""
    name = f"{table}_{column}_trgm"[:63]
    return RunSQLOnPostgreSQL(
        sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
        f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)',
        reverse_sql=f'DROP INDEX IF EXISTS "{name}"',
    )


CREATE_TRIGRAM_EXTENSION = RunSQLOnPostgreSQL(
    sql="CREATE EXTENSION IF NOT EXISTS pg_trgm", reverse_sql=migrations.RunSQL.noop
)
