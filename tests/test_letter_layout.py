"""Letters as PDF: each rendered on its own copy of the loaded fonts, so a print run of many
letters never mixes one letter's text into another's."""

from io import BytesIO

from pypdf import PdfReader

from feedback_intranet.rules.letter_layout import render_letter


def letter(name, body):
    return render_letter(bank_name="The Bank", sender_lines=["Turku", "Aurakatu 1"],
                         recipient_lines=[name, "Bulevardi 1", "00120 Helsinki"],
                         date_text="30.11.2026", reference_label="Reference",
                         reference="FB-2026-000001", body=body)


def text_of(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_letters_in_a_row_each_carry_only_their_own_text():
    first = text_of(letter("Åsa Öhman", "Ensimmäinen kirje: kortti on avattu."))
    second = text_of(letter("Matti Meikäläinen", "Toinen kirje: maksu palautetaan."))
    assert "Åsa Öhman" in first and "kortti on avattu" in first
    assert "Matti Meikäläinen" in second and "maksu palautetaan" in second
    assert "Åsa" not in second and "kortti" not in second
    assert len(PdfReader(BytesIO(letter("A", "x " * 2000))).pages) > 1
    assert len(PdfReader(BytesIO(letter("B", "short"))).pages) == 1
