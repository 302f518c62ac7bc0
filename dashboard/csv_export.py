"""CSV files the merchant downloads: safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with a formula character (`=HYPERLINK(...)` in a buyer's
name exfiltrates the sheet). OWASP's "CSV Injection" page
(https://owasp.org/www-community/attacks/CSV_Injection) says no cell may begin with `=`, `+`,
`-`, `@`, tab (0x09), carriage return (0x0D) or line feed (0x0A); that a field separator or
quote in the value must not start a new cell; and, as the alternative sanitisation, to wrap
each cell in double quotes, prepend a single quote and double every double quote.

So every text cell that starts with one of those characters, also after leading whitespace
(some spreadsheets trim it) and in its full-width form (NFKC, as East Asian spreadsheets read
it), gets a single quote in front; every cell is quoted and its quotes doubled (csv.QUOTE_ALL),
so a separator or quote inside a value never starts a cell.

Only text (str) cells are neutralised. Numbers (Decimal, int) are the app's own figures, never
buyer text, and a negative amount (a refund, an adjustment) must stay a number in the sheet.
"""

import csv
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")


def csv_cell(value):
    """The value as a CSV cell may hold it: a text starting (maybe after whitespace) with a
    formula character gets a leading single quote; anything else is returned unchanged."""
    if not isinstance(value, str) or not value:
        return value
    stripped = value.lstrip()
    for candidate in (value[:1], stripped[:1]):
        if candidate and unicodedata.normalize("NFKC", candidate)[:1] in FORMULA_TRIGGERS:
            return "'" + value
    return value


class _Echo:
    """A file-like object that hands back what is written, for csv.writer into a stream."""

    def write(self, value):
        return value


def csv_lines(rows: Iterable[Sequence]) -> Iterator[str]:
    """Each row as one CSV line, every cell quoted and neutralised by csv_cell."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_download(rows: Iterable[Sequence], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV attachment of `rows`. Whatever can fail must have failed before: the
    status line is sent with the first row, so an error later only cuts the file short."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
