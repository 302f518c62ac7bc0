"""Many rows of one model in one statement, from plain tuples: the order import's hot path.

`QuerySet.bulk_create` builds a model instance per row and runs each value through the SQL
compiler's per-field machinery: for a page of orders with their items that is most of the
import's time. Here the work per column is chosen once (how the backend wants a datetime, a
decimal, a JSON document) and each row is a tuple, so a value costs one function call at most.
The SQL is the same on PostgreSQL and SQLite: a multi-row INSERT, optionally ON CONFLICT DO
UPDATE, with RETURNING.

What it does not do, on purpose: no signals, no `save()`, no validation. Values must already be
what the model's fields hold (the order payload parser makes them so); defaults and
auto_now/auto_now_add of the columns left out are filled in as bulk_create would.
"""

from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

# PostgreSQL's limit on the parameters of one statement.
DEFAULT_MAX_PARAMS = 65535


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


class BulkRows:
    """Insert or upsert rows of `model` given as tuples of `fields` (field names, FKs by name).

    Fields left out take their default, or now for auto_now/auto_now_add, once per statement.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str]):
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

    def _filled_values(self) -> list:
        now = timezone.now()
        values = []
        for field in self.filled:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            else:
                value = field.get_default()
            values.append(field.get_db_prep_save(value, connection))
        return values

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

    def insert(self, rows: Sequence[Sequence], *, returning: Sequence[str] = ()) -> list[tuple]:
        """A plain INSERT: a unique constraint raises IntegrityError. Returns the `returning`
        columns of each inserted row, in no promised order."""
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
        return self._execute(rows, suffix, returning)
