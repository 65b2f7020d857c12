"""CSV that opens right in a Finnish Excel: UTF-8 with a byte-order mark, ';' between cells.

A cell that starts with =, +, - or @ would run as a formula in a spreadsheet;
it is prefixed with an apostrophe so it stays text. Pure: no Flask.
"""

import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@")
BOM = "\ufeff"


def safe_cell(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


PIECE = 64 * 1024


def rows_to_csv(header, rows):
    """Yield the CSV text piece by piece: the BOM and header at once (the first byte does not wait
    for the rows), then the rows in pieces of about PIECE characters, not one write per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        if buffer.tell() >= PIECE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def to_csv(header, rows):
    return "".join(rows_to_csv(header, rows)).encode("utf-8")
