"""Many rows of one model in one INSERT, from plain tuples: the bulk import's hot path.

`QuerySet.bulk_create` builds a model instance per row and runs every value through the SQL
compiler's per-field machinery; for a page of orders with their addresses, items, invoices and
history that is most of the page's time. Here the adaptation of each column (a decimal, a
datetime, a JSON document, as the backend wants it) is chosen once per statement and a row is a
tuple. No signals, no save(), no validation: the values are what the model's fields hold.
The columns left out take their default (now for auto_now / auto_now_add), once per statement.
"""

import json
from collections.abc import Callable, Sequence

from django.db import connection, models
from django.utils import timezone

# PostgreSQL's limit on the parameters of one statement; SQLite's is given by its features.
DEFAULT_MAX_PARAMS = 65535


def _adapter(field: models.Field) -> Callable | None:
    """What turns a model value into a driver parameter for this column, or None for as-is."""
    operations = connection.ops
    internal_type = field.get_internal_type()
    if connection.vendor == "postgresql" and internal_type in ("DateTimeField", "DecimalField"):
        return None  # psycopg takes datetimes and decimals as they are
    if internal_type == "DateTimeField":
        return operations.adapt_datetimefield_value
    if internal_type == "DecimalField":
        max_digits, decimal_places = field.max_digits, field.decimal_places
        return lambda value: operations.adapt_decimalfield_value(value, max_digits, decimal_places)
    if internal_type == "JSONField":
        # As text on both backends (PostgreSQL casts a text literal to the jsonb column):
        # the driver's JSON adapter costs a Python call per value.
        encoder = field.encoder
        return lambda value: json.dumps(value, cls=encoder)
    return None


class Rows:
    """INSERT rows of `model` given as tuples of `fields` (attnames: "order_id" for a foreign
    key), returning the new primary keys in the order of the rows."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]):
        meta = model._meta
        by_attname = {field.attname: field for field in meta.concrete_fields}
        self.given = [by_attname[name] for name in fields]
        self.filled = [
            field
            for field in meta.concrete_fields
            if field.attname not in fields and field is not meta.pk
        ]
        self.table = meta.db_table
        self.primary_key = meta.pk.column

    def _filled_values(self) -> list:
        now = timezone.now()
        values = []
        for field in self.filled:
            is_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            value = now if is_now else field.get_default()
            values.append(field.get_db_prep_save(value, connection))
        return values

    def insert(self, rows: Sequence[Sequence]) -> list[int]:
        """Insert `rows`; return their primary keys, in the order of `rows` (the order in which
        PostgreSQL and SQLite return a multi-row VALUES, as bulk_create relies on too)."""
        if not rows:
            return []
        adapted = [
            (position, adapt)
            for position, adapt in enumerate(map(_adapter, self.given))
            if adapt is not None
        ]
        filled = self._filled_values()
        quote = connection.ops.quote_name
        fields = [*self.given, *self.filled]
        width = len(fields)
        columns = ", ".join(quote(field.column) for field in fields)
        placeholder = "(" + ", ".join(["%s"] * width) + ")"
        max_params = connection.features.max_query_params or DEFAULT_MAX_PARAMS
        batch = max(1, max_params // width)
        # Names from the model's meta and placeholders only: the values travel as parameters.
        head = f"INSERT INTO {quote(self.table)} ({columns}) VALUES "  # noqa: S608
        tail = f" RETURNING {quote(self.primary_key)}"
        keys: list[int] = []
        with connection.cursor() as cursor:
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                parameters = []
                for row in chunk:
                    if adapted:
                        row = list(row)
                        for position, adapt in adapted:
                            row[position] = adapt(row[position])
                    parameters.extend(row)
                    parameters.extend(filled)
                cursor.execute(head + ", ".join([placeholder] * len(chunk)) + tail, parameters)
                keys.extend(row[0] for row in cursor.fetchall())
        return keys
