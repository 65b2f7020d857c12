"""Letters as PDF for a DL window envelope, with an embedded font for å, ä and ö. Pure.

The page follows SFS 2487 as Finnish business letters do: the document's name, its page number
"1 (2)", the date and the reference at the top right of every page; the recipient's address sits
where a DIN 5008 form B letter puts it, so it shows through the envelope's window.
"""

import functools
import threading
from pathlib import Path

from fpdf import FPDF

from .postal_codes import HOME_COUNTRY

FONT_DIR = Path(__file__).resolve().parent.parent.parent / "static" / "fonts"
FONT = "DejaVu"

# The window of a DL envelope: 90 × 45 mm, 20 mm from the left and 45 mm from the top.
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH, WINDOW_HEIGHT = 20, 45, 90, 45
# The letter shifts a little inside the envelope, so the address keeps clear of the window's
# edges: 5 mm on the left and top, at least 2 mm on the right and bottom.
ADDRESS_LEFT, ADDRESS_TOP = WINDOW_LEFT + 5, WINDOW_TOP + 5
ADDRESS_WIDTH = WINDOW_LEFT + WINDOW_WIDTH - 2 - ADDRESS_LEFT
ADDRESS_LINE_HEIGHT = 4.6
MAX_ADDRESS_LINES = 7
# A long line is set smaller, down to the smallest size a sorting machine still reads.
ADDRESS_SIZES = (10, 9.5, 9, 8.5, 8)

LEFT_MARGIN, RIGHT_MARGIN, BOTTOM_MARGIN = 25, 20, 20
# SFS 2487's tab stops for the document's name and its page number.
NAME_TAB, PAGE_TAB = 115, 178
HEADER_TOP, FOLLOWING_BODY_TOP = 15, 40
SUBJECT_TOP = 98
# Fold marks for three equal panels of a DL envelope, and the mark for a hole punch.
MARKS = ((99, 5), (148.5, 7), (198, 5))


def address_block(lines, country=HOME_COUNTRY, country_name=""):
    """The recipient's address as the window shows it: its lines without empty ones and, for an
    address abroad, the country in capitals on the last line (as Posti asks)."""
    block = [line.strip() for line in lines if line and line.strip()]
    if country and country.upper() != HOME_COUNTRY:
        block.append((country_name or country).strip().upper())
    return block


_measuring = threading.local()


def _measure():
    # Loading the font takes some 30 ms: each thread keeps one copy for measuring (the case
    # page asks whether the address fits), never for drawing.
    if not hasattr(_measuring, "pdf"):
        _measuring.pdf = FPDF(format="A4", unit="mm")
        _measuring.pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    return _measuring.pdf


def address_size(lines):
    """The font size at which the address fits the window, or None when it cannot."""
    return _address_size(tuple(lines))


# The case page asks for its case's address twice (the answer's default channel and the
# composer), each measure some 0.1 ms; a letter being drawn asks once more.
@functools.lru_cache(maxsize=1024)
def _address_size(lines):
    if not lines or len(lines) > MAX_ADDRESS_LINES:
        return None
    pdf = _measure()
    for size in ADDRESS_SIZES:
        pdf.set_font(FONT, "", size)
        # The cell keeps its padding on both sides of the text.
        if all(pdf.get_string_width(line) <= ADDRESS_WIDTH - 2 * pdf.c_margin for line in lines):
            return size
    return None


class _Letter(FPDF):
    """A4 letter whose every page carries the sender's header, the page number and reference."""

    def __init__(self, head):
        super().__init__(format="A4", unit="mm")
        self.head = head
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(LEFT_MARGIN, FOLLOWING_BODY_TOP, RIGHT_MARGIN)
        self.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)

    def header(self):
        head = self.head
        self.set_xy(LEFT_MARGIN, HEADER_TOP)
        self.set_font(FONT, "B", 11)
        self.cell(NAME_TAB - LEFT_MARGIN - 5, 5, head["bank_name"])
        self.set_xy(NAME_TAB, HEADER_TOP)
        self.cell(PAGE_TAB - NAME_TAB, 5, head["document_name"])
        self.set_font(FONT, "", 10)
        # "{nb}" becomes the number of pages once the letter is complete.
        self.cell(0, 5, f"{self.page_no()} ({{nb}})")
        self.set_xy(NAME_TAB, HEADER_TOP + 5)
        self.cell(0, 5, head["date_text"])
        self.set_xy(NAME_TAB, HEADER_TOP + 10)
        self.cell(0, 5, f"{head['reference_label']}: {head['reference']}")
        self.set_draw_color(150)
        self.set_line_width(0.2)
        for y, length in MARKS:
            self.line(3, y, 3 + length, y)
        self.set_y(FOLLOWING_BODY_TOP)


def render_letter(*, bank_name, sender_lines, recipient_lines, date_text, reference_label,
                  reference, document_name, subject, body):
    """The letter as PDF bytes. `recipient_lines` come from `address_block`, and must fit the
    window (`address_size`): the channel refuses a letter whose address does not."""
    pdf = _Letter({"bank_name": bank_name, "document_name": document_name,
                   "date_text": date_text, "reference_label": reference_label,
                   "reference": reference})
    size = address_size(recipient_lines)
    if size is None:
        raise ValueError("the address does not fit the envelope's window")
    pdf.set_title(subject)
    pdf.add_page()

    pdf.set_font(FONT, "", 8)
    pdf.set_xy(LEFT_MARGIN, HEADER_TOP + 5)
    for line in sender_lines:
        pdf.set_x(LEFT_MARGIN)
        pdf.cell(NAME_TAB - LEFT_MARGIN - 5, 4, line, new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(FONT, "", size)
    pdf.set_xy(ADDRESS_LEFT, ADDRESS_TOP)
    for line in recipient_lines:
        pdf.cell(ADDRESS_WIDTH, ADDRESS_LINE_HEIGHT, line, new_x="LMARGIN", new_y="NEXT")

    pdf.set_xy(LEFT_MARGIN, SUBJECT_TOP)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 5.5, subject, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font(FONT, "", 11)
    # Ragged right: justified text opens wide gaps between the words of a short line.
    pdf.multi_cell(0, 5.5, body, align="L")
    return bytes(pdf.output())


def merge(pdfs):
    """Several letters as one PDF, for printing a whole queue at once."""
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    for data in pdfs:
        writer.append(BytesIO(data))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
