"""Accent-insensitive name search: "Muller" finds "Müller", on PostgreSQL and SQLite alike.

Both databases know a deterministic SQL function `f_unaccent(text)`: on PostgreSQL an IMMUTABLE
wrapper of the unaccent extension (created by migration, with a trigram index on
UPPER(f_unaccent(column)) per searched column); on SQLite `unaccent_fold` below, registered on
each new connection (see CommerceOrdersConfig.ready).
"""

import unicodedata

from django.db.models import Lookup

UNACCENT_FUNCTION = "f_unaccent"

# Letters that Unicode does not decompose into a base letter and an accent, folded as
# PostgreSQL's unaccent rules fold them.
_UNDECOMPOSABLE = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
    }
)


def unaccent_fold(value: str | None) -> str | None:
    """`value` without its accents (Müller -> Muller, Ørsted -> Orsted); None stays None."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(value).translate(_UNDECOMPOSABLE))
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def sqlite_functions_register(sender, connection, **kwargs) -> None:
    """connection_created receiver: SQLite gets f_unaccent (PostgreSQL has it by migration)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            UNACCENT_FUNCTION, 1, unaccent_fold, deterministic=True
        )


class UnaccentedIContains(Lookup):
    """`column` contains `text`, ignoring case and accents:
    UPPER(f_unaccent(column)) LIKE UPPER(f_unaccent('%text%')), the expression of the column's
    trigram index on PostgreSQL. Used as a filter: `.filter(UnaccentedIContains(F("name"), t))`.
    """

    lookup_name = "unaccent_icontains"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(self.lhs)
        pattern = f"%{connection.ops.prep_for_like_query(self.rhs)}%"
        folded = f"UPPER({UNACCENT_FUNCTION}(%s))"
        operator = connection.operators["contains"] % folded
        return f"UPPER({UNACCENT_FUNCTION}({lhs})) {operator}", [*lhs_params, pattern]
