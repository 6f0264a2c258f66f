"""CSV cells that spreadsheets would run as formulas are neutralised; the BOM comes first."""

import csv
import io
from datetime import UTC, datetime

import pytest

from portal.services.csv_export import BOM, neutralise, stream_csv


@pytest.mark.parametrize("cell", ["=1+1", "+33 1 23", "-2", "@SUM(A1)", "\tx", "\rx",
                                  '=HYPERLINK("http://evil","click")'])
def test_formula_starts_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize(("cell", "expected"), [
    ("Zoë Lévesque", "Zoë Lévesque"), ("a=b", "a=b"), ("", ""), (None, ""), (42, "42"), (True, "yes"),
    (False, "no"), (datetime(2023, 1, 18, 18, tzinfo=UTC), "2023-01-18T18:00:00+00:00"),
])
def test_ordinary_cells_are_kept(cell, expected):
    assert neutralise(cell) == expected


def test_stream_yields_bom_then_one_line_per_row():
    rows = [("Zoë", "=cmd|' /C calc'!A0"), ("Ren\u00e9e, \"Q\"", "line\nbreak")]
    chunks = list(stream_csv(["name", "note"], iter(rows)))
    assert chunks[0] == BOM and len(chunks) == 2 + len(rows)
    parsed = list(csv.reader(io.StringIO("".join(chunks)[1:])))
    assert parsed == [["name", "note"], ["Zoë", "'=cmd|' /C calc'!A0"], ['Renée, "Q"', "line\nbreak"]]


def test_stream_is_lazy():
    def endless():
        n = 0
        while True:
            n += 1
            yield (n,)

    stream = stream_csv(["n"], endless())
    assert [next(stream) for _ in range(4)] == [BOM, "n\r\n", "1\r\n", "2\r\n"]
