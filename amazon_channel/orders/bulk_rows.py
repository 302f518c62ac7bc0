"""Many rows of one model in few statements, from plain tuples: the order import's hot path.

`QuerySet.bulk_create` builds a model instance per row and runs each value through the SQL
compiler's per-field machinery: for a page of orders with their items that is most of the
import's time. Here the work per column is chosen once (how the backend wants a datetime, a
decimal, a JSON document) and each row is a tuple, so a value costs one function call at most.

On PostgreSQL the rows travel by COPY, as text that the server reads column by column, instead
of as SQL literals: a page of orders is half a megabyte of raw payloads, which the SQL parser
would scan as string literals and the driver quote one parameter at a time (together about half
of the page's time). COPY has no ON CONFLICT and no RETURNING, so

- `insert` takes the primary keys it needs from the table's sequence first (one SELECT) and
  COPYs the rows straight into the table: a unique violation raises IntegrityError as an
  INSERT would;
- `upsert` COPYs the rows into a temporary table of the session (the table's columns, types
  and compression: `LIKE ... INCLUDING COMPRESSION`, emptied at each use and at commit), then
  runs one INSERT ... SELECT ... ON CONFLICT DO UPDATE from it.

Elsewhere (SQLite) the same writes are multi-row INSERTs, optionally ON CONFLICT DO UPDATE,
with RETURNING. COPY statements go through Django's execute wrappers and query log like any
other, so counting queries counts them.

What it does not do, on purpose: no signals, no `save()`, no validation. Values must already be
what the model's fields hold (the order payload parser makes them so); defaults and
auto_now/auto_now_add of the columns left out are filled in as bulk_create would.
"""

import functools
import io
from collections.abc import Callable, Iterable, Sequence

import orjson
from django.db import connection, models, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.db.models.fields import AutoFieldMixin
from django.db.models.fields.json import JSONField
from django.utils import timezone

# PostgreSQL's limit on the parameters of one statement.
DEFAULT_MAX_PARAMS = 65535
# PostgreSQL's longest identifier: the staging table's name is cut to it.
MAX_IDENTIFIER_LENGTH = 63


# Fields whose model values every backend's driver takes as they are (exact classes: a subclass
# may prepare its values, as the encrypted text field does).
PLAIN_FIELDS = {
    models.CharField,
    models.EmailField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
}
TEXT_FIELDS = {models.CharField, models.EmailField, models.TextField}


def _identity(value):
    return value


def _adapter(field: models.Field) -> Callable:
    """What turns a model value into a driver parameter for this column, chosen once."""
    operations = connection.ops
    internal_type = field.get_internal_type()
    if internal_type == "DateTimeField":
        return operations.adapt_datetimefield_value
    if internal_type == "DateField":
        return operations.adapt_datefield_value
    if internal_type == "DecimalField":
        max_digits, decimal_places = field.max_digits, field.decimal_places

        def decimal(value):
            return operations.adapt_decimalfield_value(value, max_digits, decimal_places)

        return decimal
    if internal_type == "JSONField":
        encoder = field.encoder

        def json_value(value):
            return None if value is None else operations.adapt_json_value(value, encoder)

        return json_value
    if type(field) in PLAIN_FIELDS:
        return _identity
    if isinstance(field, models.ForeignKey):
        return _identity  # the caller passes the related primary key
    # Anything else (our own fields among them) through its own get_db_prep_save.
    return lambda value: field.get_db_prep_save(value, connection)


# COPY's text format: one line per row, columns separated by tabs, \N for NULL, and a backslash
# escapes itself and the characters that would end a column or a line.
COPY_NULL = "\\N"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    text = value if type(value) is str else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(COPY_ESCAPES)
    return text


def _json_text(value, encoder) -> str:
    """A JSON column's document as text: orjson for plain documents, the field's encoder
    (json.dumps, as JSONField) for what orjson does not write. NaN and the infinities, which
    PostgreSQL's jsonb refuses, are written null (as JSONTextField does)."""
    if encoder is None:
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # orjson.JSONEncodeError too: an integer beyond 64 bits...
            pass
    return JSONField(encoder=encoder).get_prep_value(value)


def _copy_encoder(field: models.Field) -> Callable[[object], str]:
    """What turns a model value (not None) into its text in COPY, chosen once per column."""
    if isinstance(field, models.ForeignKey):
        return _copy_encoder(field.target_field)  # the caller passes the related primary key
    internal_type = field.get_internal_type()
    if internal_type in ("DateTimeField", "DateField"):
        return lambda value: value.isoformat()
    if internal_type == "DecimalField":
        return str
    if internal_type == "JSONField":
        encoder = field.encoder
        return lambda value: _copy_text(_json_text(value, encoder))
    if internal_type == "BooleanField":
        return lambda value: "t" if value else "f"
    if type(field) in TEXT_FIELDS:
        return _copy_text
    if type(field) in PLAIN_FIELDS or isinstance(field, AutoFieldMixin):
        return str  # the integers

    def prepared(value):
        # Anything else (our own fields among them) through its own get_db_prep_save.
        prepared = field.get_db_prep_save(value, connection)
        if prepared is None:
            return COPY_NULL
        if not isinstance(prepared, str | int):
            raise TypeError(f"{field} gives a {type(prepared).__name__}, which COPY cannot take")
        return _copy_text(prepared)

    return prepared


def _copy_from(cursor, sql: str, data: bytes) -> None:
    """COPY ... FROM STDIN with `data`, through Django's execute wrappers and query log (which
    a driver's own copy method would bypass) and its database errors."""
    raw_cursor = cursor.cursor

    def copy(sql, params, many, context):
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            if hasattr(raw_cursor, "copy_expert"):  # psycopg2
                raw_cursor.copy_expert(sql, io.BytesIO(data), size=max(len(data), 8192))
            else:  # psycopg 3
                with raw_cursor.copy(sql) as stream:
                    stream.write(data)

    executor = copy
    for wrapper in reversed(connection.execute_wrappers):
        executor = functools.partial(wrapper, executor)
    context = {"connection": connection, "cursor": cursor}
    if isinstance(cursor, CursorDebugWrapper):
        with cursor.debug_sql(sql):
            executor(sql, None, False, context)
    else:
        executor(sql, None, False, context)


class BulkRows:
    """Insert or upsert rows of `model` given as tuples of `fields` (field names, FKs by name).

    Fields left out take their default, or now for auto_now/auto_now_add, once per statement.
    `is_copied`: on PostgreSQL, by COPY (see the module's docstring); False writes SQL
    literals there too.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str], *, is_copied=True):
        self.model = model
        meta = model._meta
        self.given = [meta.get_field(name) for name in fields]
        given_names = {field.name for field in self.given}
        self.filled = [
            field
            for field in meta.concrete_fields
            if field.name not in given_names and not isinstance(field, AutoFieldMixin)
        ]
        self.columns = [field.column for field in (*self.given, *self.filled)]
        self.table = meta.db_table
        self.is_copied = is_copied
        self.is_key_generated = isinstance(meta.pk, AutoFieldMixin) and meta.pk not in self.given
        self._copy_encoders: list[tuple[int, Callable]] | None = None

    def _is_copy_used(self) -> bool:
        # COPY takes the primary key from the table's sequence: an AutoField's, not given.
        return self.is_copied and connection.vendor == "postgresql" and self.is_key_generated

    def _filled_values(self) -> list:
        return [field.get_db_prep_save(value, connection) for field, value in self._defaults()]

    def _defaults(self) -> list[tuple[models.Field, object]]:
        now = timezone.now()
        defaults = []
        for field in self.filled:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                defaults.append((field, now))
            else:
                defaults.append((field, field.get_default()))
        return defaults

    def _parameters(self, rows: Iterable[Sequence]) -> list[list]:
        width = len(self.given)
        # Most columns go to the driver as they are: only the others are called per row.
        adapted = [
            (position, adapt)
            for position, adapt in enumerate(map(_adapter, self.given))
            if adapt is not _identity
        ]
        filled = self._filled_values()
        parameters = []
        for row in rows:
            if len(row) != width:
                raise ValueError(f"{self.model.__name__} row of {len(row)} values, not {width}")
            values = [*row, *filled]
            for position, adapt in adapted:
                values[position] = adapt(values[position])
            parameters.append(values)
        return parameters

    def _column_list(self, names: Iterable[str]) -> str:
        quote = connection.ops.quote_name
        return ", ".join(quote(name) for name in names)

    def _columns_of(self, field_names: Iterable[str]) -> list[str]:
        return [self.model._meta.get_field(name).column for name in field_names]

    def _execute(self, rows: Sequence[Sequence], suffix: str, returning: Sequence[str]) -> list:
        if not rows:
            return []
        parameters = self._parameters(rows)
        width = len(self.columns)
        max_params = connection.features.max_query_params or DEFAULT_MAX_PARAMS
        batch = max(1, max_params // width)
        placeholder = "(" + ", ".join(["%s"] * width) + ")"
        table = connection.ops.quote_name(self.table)
        # Names from the model's meta and placeholders only: the values travel as parameters.
        head = f"INSERT INTO {table} ({self._column_list(self.columns)}) VALUES "  # noqa: S608
        tail = suffix
        if returning:
            tail += f" RETURNING {self._column_list(self._columns_of(returning))}"
        returned: list = []
        with connection.cursor() as cursor:
            for start in range(0, len(parameters), batch):
                chunk = parameters[start : start + batch]
                sql = head + ", ".join([placeholder] * len(chunk)) + tail
                cursor.execute(sql, [value for row in chunk for value in row])
                if returning:
                    returned.extend(cursor.fetchall())
        return returned

    # COPY (PostgreSQL)

    def _copy_data(self, rows: Sequence[Sequence], keys: Sequence | None) -> bytes:
        """The rows as COPY text: each after its primary key from `keys` (unless None), then
        the filled columns. Raises ValueError for a row of the wrong width, and for text that
        cannot be UTF-8 (a lone surrogate), as the driver would for a parameter."""
        if self._copy_encoders is None:
            self._copy_encoders = list(enumerate(map(_copy_encoder, self.given)))
        encoders = self._copy_encoders
        width = len(self.given)
        filled = "".join(
            "\t" + (COPY_NULL if value is None else _copy_encoder(field)(value))
            for field, value in self._defaults()
        )
        lines = []
        for number, row in enumerate(rows):
            if len(row) != width:
                raise ValueError(f"{self.model.__name__} row of {len(row)} values, not {width}")
            texts = [] if keys is None else [str(keys[number])]
            for position, encode in encoders:
                value = row[position]
                texts.append(COPY_NULL if value is None else encode(value))
            lines.append("\t".join(texts) + filled + "\n")
        return "".join(lines).encode()

    def _copy_sql(self, table: str, *, is_key_given: bool) -> str:
        quote = connection.ops.quote_name
        columns = [self.model._meta.pk.column, *self.columns] if is_key_given else self.columns
        return f"COPY {quote(table)} ({self._column_list(columns)}) FROM STDIN"

    def _copy_insert(self, rows: Sequence[Sequence], returning: Sequence[str]) -> list[tuple]:
        meta = self.model._meta
        quote = connection.ops.quote_name
        positions = {field.name: position for position, field in enumerate(self.given)}
        picks = []
        for name in returning:
            field = meta.get_field(name)
            if field.primary_key:
                picks.append(None)
            elif field.name in positions:
                picks.append(positions[field.name])
            else:
                raise ValueError(f"COPY returns the primary key and given fields, not {name}")
        keys = None
        with connection.cursor() as cursor:
            if None in picks:
                # The rows' primary keys, from the sequence the column's default takes them from.
                cursor.execute(
                    "WITH named AS MATERIALIZED ("
                    "SELECT pg_get_serial_sequence(%s, %s)::regclass AS sequence) "
                    "SELECT nextval(named.sequence) FROM named, generate_series(1, %s)",
                    [quote(self.table), meta.pk.column, len(rows)],
                )
                keys = [key for (key,) in cursor.fetchall()]
            sql = self._copy_sql(self.table, is_key_given=keys is not None)
            _copy_from(cursor, sql, self._copy_data(rows, keys))
        return (
            [
                tuple(keys[number] if pick is None else row[pick] for pick in picks)
                for number, row in enumerate(rows)
            ]
            if returning
            else []
        )

    def _staging_table(self) -> str:
        return f"bulk_rows_{self.table}"[:MAX_IDENTIFIER_LENGTH]

    def _stage(self, cursor, rows: Sequence[Sequence], keys: Sequence) -> str:
        """COPY the rows, after their `keys`, into the session's staging table of the model;
        returns its quoted name.

        Call it in a transaction (in autocommit the COPY's commit would empty the table): the
        staging table is made at its first use in a session and emptied at each commit. It has
        the table's column types and compression (a payload compressed otherwise would be
        stored so), its NOT NULLs, no other constraint. Emptied here too, as a transaction may
        write several pages.
        """
        quote = connection.ops.quote_name
        staging = self._staging_table()
        cursor.execute(  # names from the model's meta only
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(staging)} "  # noqa: S608
            f"(LIKE {quote(self.table)} INCLUDING COMPRESSION) ON COMMIT DELETE ROWS; "
            f"DELETE FROM {quote(staging)}"
        )
        copy_sql = self._copy_sql(staging, is_key_given=True)
        _copy_from(cursor, copy_sql, self._copy_data(rows, keys))
        return quote(staging)

    def _copy_upsert(self, rows: Sequence[Sequence], suffix: str, returning: Sequence[str]):
        table = connection.ops.quote_name(self.table)
        columns = self._column_list(self.columns)
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            # The primary key is not read from the staging table: 0 fills its NOT NULL.
            staging = self._stage(cursor, rows, [0] * len(rows))
            sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}{suffix}"  # noqa: S608
            if returning:
                sql += f" RETURNING {self._column_list(self._columns_of(returning))}"
            cursor.execute(sql)
            return cursor.fetchall() if returning else []

    def _copy_update(self, keys: Sequence, rows: Sequence[Sequence], update_fields) -> None:
        quote = connection.ops.quote_name
        table = quote(self.table)
        pk_column = quote(self.model._meta.pk.column)
        assignments = ", ".join(
            f"{column} = staged.{column}" for column in map(quote, self._columns_of(update_fields))
        )
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            staging = self._stage(cursor, rows, keys)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {staging} AS staged "  # noqa: S608
                f"WHERE {table}.{pk_column} = staged.{pk_column}"
            )

    # The writes

    def insert(self, rows: Sequence[Sequence], *, returning: Sequence[str] = ()) -> list[tuple]:
        """A plain INSERT: a unique constraint raises IntegrityError. Returns the `returning`
        columns of each inserted row, in no promised order (by COPY: the primary key and the
        values given)."""
        if not rows:
            return []
        if self._is_copy_used():
            return self._copy_insert(rows, returning)
        return self._execute(rows, "", returning)

    def upsert(
        self,
        rows: Sequence[Sequence],
        *,
        unique_fields: Sequence[str],
        update_fields: Sequence[str],
        is_unchanged_skipped: bool = False,
        returning: Sequence[str] = (),
    ) -> list[tuple]:
        """INSERT, or UPDATE `update_fields` of the row that has the same `unique_fields`.

        With `is_unchanged_skipped`, a stored row whose `update_fields` (auto_now ones aside)
        already hold the new values is left as it is: no new row version, no index entries.
        RETURNING then leaves it out.
        """
        if not rows:
            return []
        quote = connection.ops.quote_name
        conflict = self._column_list(self._columns_of(unique_fields))
        assignments = ", ".join(
            f"{quote(column)} = excluded.{quote(column)}"
            for column in self._columns_of(update_fields)
        )
        suffix = f" ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
        if is_unchanged_skipped:
            compared = [
                field.column
                for field in map(self.model._meta.get_field, update_fields)
                if not getattr(field, "auto_now", False)
            ]
            table = quote(self.table)
            stored = ", ".join(f"{table}.{quote(column)}" for column in compared)
            new = ", ".join(f"excluded.{quote(column)}" for column in compared)
            # Null-safe inequality of the two rows: SQLite spells IS DISTINCT FROM "IS NOT".
            distinct = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
            suffix += f" WHERE ({stored}) {distinct} ({new})"
        if self._is_copy_used():
            return self._copy_upsert(rows, suffix, returning)
        return self._execute(rows, suffix, returning)

    def update(
        self, keys: Sequence, rows: Sequence[Sequence], *, update_fields: Sequence[str]
    ) -> None:
        """UPDATE `update_fields` of stored rows: each row's primary key is the same position
        of `keys`. For rows the caller has locked; a key that is not stored is written nowhere
        by COPY, inserted by the SQL literals (an upsert on the primary key)."""
        if len(keys) != len(rows):
            raise ValueError(f"{len(keys)} keys for {len(rows)} rows")
        if not rows:
            return
        if self._is_copy_used():
            self._copy_update(keys, rows, update_fields)
            return
        quote = connection.ops.quote_name
        assignments = ", ".join(
            f"{quote(column)} = excluded.{quote(column)}"
            for column in self._columns_of(update_fields)
        )
        keyed = BulkRows(self.model, [self.model._meta.pk.name, *(f.name for f in self.given)])
        keyed._execute(
            [(key, *row) for key, row in zip(keys, rows, strict=True)],
            f" ON CONFLICT ({quote(self.model._meta.pk.column)}) DO UPDATE SET {assignments}",
            (),
        )
