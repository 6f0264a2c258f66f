"""CSV downloads that spreadsheet programs open safely.

Cells that a spreadsheet would read as a formula are neutralised; a UTF-8 BOM
comes first so accents survive Excel; rows are written one at a time into a
reused buffer so memory stays flat however many rows are exported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> str:
    """The cell as text, prefixed with ' when it would start a formula."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    text = cell.isoformat() if isinstance(cell, datetime) else str(cell)
    # Leading spaces or line breaks do not stop every spreadsheet program from reading a formula.
    if text.startswith(_FORMULA_STARTS) or text.lstrip(" \n\r\t").startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def stream_csv(header: list[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield the BOM, the header line, then one line per row (CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    yield BOM
    writer.writerow([neutralise(cell) for cell in header])
    yield flush()
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        yield flush()
