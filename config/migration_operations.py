"""Migration operations for what only PostgreSQL has (trigram indexes, unaccent); nothing
elsewhere."""

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


# f_unaccent: unaccent() is only STABLE (its dictionary could change), so no index may use it;
# this wrapper names its dictionary and is declared IMMUTABLE, which an index expression needs.
# CREATE OR REPLACE: each app's migration creates it, whichever runs first.
CREATE_UNACCENT_FUNCTION = RunSQLOnPostgreSQL(
    sql=[
        "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
        "CREATE OR REPLACE FUNCTION public.f_unaccent(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        "AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$",
    ],
    reverse_sql=migrations.RunSQL.noop,
)


def unaccent_trigram_index(table: str, column: str) -> RunSQLOnPostgreSQL:
    """A trigram index serving commerce_orders.search.UnaccentedIContains on PostgreSQL:
    UPPER(f_unaccent(column)) LIKE UPPER(f_unaccent(pattern))."""
    name = f"{table}_{column}_unaccent_trgm"[:63]
    return RunSQLOnPostgreSQL(
        sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
        f'USING gin ((UPPER(public.f_unaccent("{column}"))) gin_trgm_ops)',
        reverse_sql=f'DROP INDEX IF EXISTS "{name}"',
    )


def trigram_index_drop(table: str, column: str) -> RunSQLOnPostgreSQL:
    """The reverse of trigram_index: for a column whose search moved to another expression."""
    created = trigram_index(table, column)
    return RunSQLOnPostgreSQL(sql=created.reverse_sql, reverse_sql=created.sql)
