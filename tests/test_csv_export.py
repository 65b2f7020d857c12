"""CSV for a Finnish Excel, safe against formula injection."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback_intranet.rules.csv_cells import safe_cell, to_csv


def test_bom_semicolons_and_a_header_row():
    data = to_csv(["Viite", "Asiakas"], [["FB-2026-000001", "Åsa; Lindqvist"]])
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert text == 'Viite;Asiakas\r\nFB-2026-000001;"Åsa; Lindqvist"\r\n'


@pytest.mark.parametrize("value", ["=1+1", "+358401234567", "-2", "@SUM(A1)", "=HYPERLINK(x)"])
def test_formulas_are_neutralised(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["FB-2026-000001", "1,5", "", None, 42])
def test_plain_values_stay(value):
    assert safe_cell(value) == ("" if value is None else str(value))


@given(st.lists(st.lists(st.text(), min_size=2, max_size=2), max_size=5))
def test_every_cell_reads_back_as_text_never_a_formula(rows):
    text = to_csv(["a", "b"], rows).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert read[0] == ["a", "b"]
    for written, back in zip(rows, read[1:], strict=True):
        for cell, value in zip(written, back, strict=True):
            assert not value.startswith(("=", "+", "-", "@"))
            assert value == safe_cell(cell)
