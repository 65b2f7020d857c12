"""Letters as PDF for a C5/DL window envelope, with an embedded font for å, ä and ö. Pure."""

from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path(__file__).resolve().parent.parent.parent / "static" / "fonts"
# The address window of a C5/DL envelope: 20 mm from the left, 45 mm from the top.
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH = 20, 45, 85


def render_letter(*, bank_name, sender_lines, recipient_lines, date_text, reference_label,
                  reference, body):
    """The letter as PDF bytes."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{reference_label} {reference}")
    pdf.add_page()

    pdf.set_xy(WINDOW_LEFT, 15)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(WINDOW_WIDTH, 5, bank_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for line in sender_lines:
        pdf.set_x(WINDOW_LEFT)
        pdf.cell(WINDOW_WIDTH, 4, line, new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("DejaVu", "", 10)
    pdf.set_xy(125, 15)
    pdf.cell(65, 5, date_text, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(125)
    pdf.cell(65, 5, f"{reference_label}: {reference}", align="R")

    pdf.set_font("DejaVu", "", 11)
    pdf.set_xy(WINDOW_LEFT, WINDOW_TOP + 5)
    for line in recipient_lines:
        pdf.set_x(WINDOW_LEFT)
        pdf.cell(WINDOW_WIDTH, 5.5, line, new_x="LMARGIN", new_y="NEXT")

    pdf.set_xy(WINDOW_LEFT, 105)
    pdf.set_left_margin(WINDOW_LEFT)
    pdf.set_right_margin(20)
    pdf.multi_cell(0, 5.5, body)
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
