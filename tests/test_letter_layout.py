"""Letters as PDF, read back with pypdf: what the customer reads on each page, and where the
address is printed, measured from the PDF's own text operators and the embedded font's metrics.

Each letter is rendered on its own copy of the loaded fonts, so a print run of many letters
never mixes one letter's text into another's."""

from io import BytesIO

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from feedback_intranet.rules.letter_layout import address_block, address_size, render_letter

MM = 72 / 25.4
# The window of a DL envelope (DIN 5008 form B) and the margin the address keeps from its edges.
WINDOW = {"left": 20, "top": 45, "right": 110, "bottom": 90}
SPARE = 2


def letter(name="Matti Meikäläinen", body="Kortti on avattu.", recipient=None, **fields):
    values = {"bank_name": "Pankki", "sender_lines": ["Asiakaspalvelu", "Aurakatu 1",
                                                      "20100 Turku"],
              "recipient_lines": recipient or address_block([name, "Bulevardi 1",
                                                             "00120 Helsinki"]),
              "date_text": "30.11.2026", "reference_label": "Viite",
              "reference": "FB-2026-000001", "document_name": "Vastaus",
              "subject": "Vastaus palautteeseesi FB-2026-000001", "body": body}
    return render_letter(**(values | fields))


def pages(pdf):
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def text_of(pdf):
    return "\n".join(pages(pdf))


def _widths(descendant):
    """A CID font's glyph widths, from its /W array (both of its forms)."""
    widths, entries, i = {}, list(descendant["/W"]), 0
    while i < len(entries):
        first = int(entries[i])
        if isinstance(entries[i + 1], list):
            for offset, width in enumerate(entries[i + 1]):
                widths[first + offset] = float(width)
            i += 2
        else:
            for cid in range(first, int(entries[i + 1]) + 1):
                widths[cid] = float(entries[i + 2])
            i += 3
    return widths, float(descendant.get("/DW", 1000))


def text_boxes(pdf, page_number=0):
    """Each piece of text on the page and its box in mm from the page's top left corner: from
    where the PDF starts showing it, the advance widths of the glyphs it shows, and the font's
    ascent and descent (the box holds any glyph, Å's ring and g's tail included)."""
    page = PdfReader(BytesIO(pdf)).pages[page_number]
    height = float(page.mediabox.height)
    fonts = page["/Resources"]["/Font"]
    state, shown, boxes = {}, {}, []

    def before(operator, args, _cm, tm):
        if operator == b"Tf":
            state["font"], state["size"] = fonts[args[0]].get_object(), float(args[1])
        elif operator in (b"Tj", b"TJ"):
            assert operator == b"Tj", "a letter shows its text without kerning or spacing"
            descendant = state["font"]["/DescendantFonts"][0].get_object()
            widths, default = _widths(descendant)
            data = bytes(args[0])
            cids = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]
            key = (round(tm[4], 2), round(tm[5], 2))
            descriptor = descendant["/FontDescriptor"]
            advance = sum(widths.get(cid, default) for cid in cids) * state["size"] / 1000
            x, y, width, ascent, descent = shown.get(key, (tm[4], tm[5], 0, 0, 0))
            shown[key] = (x, y, width + advance,
                          max(ascent, float(descriptor["/Ascent"]) * state["size"] / 1000),
                          min(descent, float(descriptor["/Descent"]) * state["size"] / 1000))

    def text(content, _cm, tm, _font, _size):
        key = (round(tm[4], 2), round(tm[5], 2))
        if content.strip() and key in shown:
            x, y, width, ascent, descent = shown[key]
            boxes.append((content.strip(), {"left": x / MM, "right": (x + width) / MM,
                                            "top": (height - y - ascent) / MM,
                                            "bottom": (height - y - descent) / MM}))

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return boxes


def address_boxes(pdf, lines):
    boxes = dict(text_boxes(pdf))
    assert set(lines) <= set(boxes), f"{lines} not all drawn: {sorted(boxes)}"
    return [boxes[line] for line in lines]


def assert_inside_the_window(boxes):
    for box in boxes:
        assert box["left"] >= WINDOW["left"] + SPARE, box
        assert box["right"] <= WINDOW["right"] - SPARE, box
        assert box["top"] >= WINDOW["top"] + SPARE, box
        assert box["bottom"] <= WINDOW["bottom"] - SPARE, box


def test_letters_in_a_row_each_carry_only_their_own_text():
    first = text_of(letter("Åsa Öhman", "Ensimmäinen kirje: kortti on avattu."))
    second = text_of(letter("Matti Meikäläinen", "Toinen kirje: maksu palautetaan."))
    assert "Åsa Öhman" in first and "kortti on avattu" in first
    assert "Matti Meikäläinen" in second and "maksu palautetaan" in second
    assert "Åsa" not in second and "kortti" not in second


def test_a_one_page_letter_says_what_it_is_and_is_page_one_of_one():
    [page] = pages(letter())
    assert "Vastaus palautteeseesi FB-2026-000001" in page
    assert "1 (1)" in page and "Viite: FB-2026-000001" in page and "30.11.2026" in page


def test_every_page_of_a_long_letter_carries_its_number_of_the_total_and_the_reference():
    body = "\n\n".join(f"Kappale {n}: " + "maksu on palautettu tilillesi. " * 12
                       for n in range(1, 12))
    first, second = pages(letter(body=body))
    assert "1 (2)" in first and "2 (2)" not in first
    assert "2 (2)" in second and "Viite: FB-2026-000001" in second and "Vastaus" in second
    # The subject and the address are the first page's; the following page carries the header.
    assert "Vastaus palautteeseesi" in first and "Vastaus palautteeseesi" not in second
    assert "Bulevardi 1" not in second
    assert "Kappale 11" in second


def test_the_text_is_ragged_right_not_stretched_to_the_margin():
    words = ("Palautteesi", "on", "käsitelty", "ja", "maksu", "palautetaan", "tilillesi")
    pdf = letter(body=" ".join(words[n * n % 7] for n in range(300)))
    # Justified text would set a word spacing (Tw) on every full line; ragged text sets none.
    content = b"".join(page.get_contents().get_data() for page in PdfReader(BytesIO(pdf)).pages)
    assert b" Tw" not in content
    lines = [box for text, box in text_boxes(pdf) if text.split()[0] in words]
    assert len(lines) > 5
    assert all(box["right"] <= 210 - 20 for box in lines)
    assert len({round(box["right"]) for box in lines}) > 2


def test_a_finnish_address_shows_through_the_window_with_room_to_spare():
    lines = ["Åsa Lindqvist", "Slottsgatan 3 B 12", "20100 Åbo"]
    pdf = letter(recipient=address_block(lines))
    assert_inside_the_window(address_boxes(pdf, lines))


def test_a_six_line_address_abroad_ends_with_its_country_and_fits_the_window():
    lines = ["Anna-Karin Lindqvist-Öhman", "c/o Bergström", "Storgatan 12 B lgh 1102",
             "Box 1234", "123 45 Stockholm"]
    block = address_block(lines, "SE", "Sverige")
    assert block == [*lines, "SVERIGE"]
    pdf = letter(recipient=block)
    boxes = address_boxes(pdf, block)
    assert_inside_the_window(boxes)
    assert [box["top"] for box in boxes] == sorted(box["top"] for box in boxes)


def test_an_address_in_finland_gets_no_country_line_and_blank_lines_are_dropped():
    assert address_block(["Matti", " ", "Katu 1", "00100 Helsinki"]) == [
        "Matti", "Katu 1", "00100 Helsinki"]
    assert address_block(["Matti", "Katu 1", "00100 Helsinki"], "fi", "Suomi") == [
        "Matti", "Katu 1", "00100 Helsinki"]


def test_an_address_too_long_for_the_window_is_refused_rather_than_cut():
    assert address_size(["x" * 30, "Katu 1"]) == 10
    assert address_size(["Wolfeschlegelsteinhausenbergerdorff Hubert Blaine"]) < 10
    assert address_size(["x" * 120]) is None
    assert address_size([f"line {n}" for n in range(8)]) is None
    with pytest.raises(ValueError):
        letter(recipient=["x" * 120])


def test_the_longest_line_that_fits_still_keeps_clear_of_the_window_edge():
    line = "Wolfeschlegelsteinhausenbergerdorff"
    while address_size([line + "W"]) is not None:
        line += "W"
    assert address_size([line]) == 8
    assert_inside_the_window(address_boxes(letter(recipient=[line]), [line]))


address_lines = st.lists(
    st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzåäöÅÄÖWMg0123456789 -/.,"),
            min_size=1, max_size=45).map(str.strip).filter(bool),
    min_size=1, max_size=6)


@settings(deadline=None, max_examples=15)
@given(address_lines)
def test_any_address_that_fits_is_printed_inside_the_window(lines):
    lines = list(dict.fromkeys(lines))  # the boxes are looked up by their text
    assume(address_size(lines) is not None)
    assert_inside_the_window(address_boxes(letter(recipient=lines), lines))
