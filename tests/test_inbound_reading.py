"""Reading the mail that comes back: replies as Outlook, Gmail, Apple Mail and Thunderbird write
them in Finnish, Swedish and English, automatic replies, delivery reports, spam verdicts and the
bank's own DMARC verdict. The samples in tests/mail/ are built as those programs build them."""

import contextlib
import time
import unicodedata
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_intranet.inbound.reading import (
    Bounce,
    Mail,
    Unreadable,
    _html_text,
    _new_text,
    read,
    subject_reference,
)

MAIL = Path(__file__).parent / "mail"
TRUSTED = "mail.bank.example"
OUR_ANSWER = "<6f1c2a9e0b7d4c3e8a5f1b2c3d4e5f60@bank.example>"
OUR_CONFIRMATION = "<0a9b8c7d6e5f40312a3b4c5d6e7f8091@bank.example>"
FEW = settings(max_examples=60, deadline=None)


def sample(name):
    return (MAIL / name).read_bytes()


def read_mail(raw, *, authserv_id=TRUSTED, spam_header="X-Spam-Flag", spam_values=frozenset({"yes"})):
    return read(raw, authserv_id=authserv_id, spam_header=spam_header, spam_values=spam_values)


def plain_mail(body="Kiitos.", *headers, charset="utf-8", encoding="8bit", extra_type=""):
    """A one-part text/plain mail with the given header lines (From etc. filled in if missing)."""
    names = {line.split(":", 1)[0].lower() for line in headers}
    defaults = [f"{name}: {value}" for name, value in (
        ("From", "Matti Meikäläinen <matti@example.fi>"), ("To", "feedback@bank.example"),
        ("Subject", "Re: Vastaus palautteeseesi FB-2026-000123"),
        ("Message-ID", "<reply-1@example.fi>")) if name.lower() not in names]
    head = "\n".join([*defaults, *headers, "MIME-Version: 1.0",
                      f"Content-Type: text/plain; charset={charset}{extra_type}",
                      f"Content-Transfer-Encoding: {encoding}"])
    return head.encode("utf-8") + b"\n\n" + (body.encode(charset) if isinstance(body, str) else body)


def html_mail(markup, *headers):
    return plain_mail(markup, *headers).replace(b"Content-Type: text/plain", b"Content-Type: text/html")


def text_of(body):
    return read_mail(plain_mail(body)).text


def html_only(raw):
    """The same mail as its HTML alternative alone, as a mail program that sends no plain text
    writes it."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    markup = message.get_body(("html",)).get_content()
    message.clear_content()
    message.set_content(markup, subtype="html", cte="quoted-printable")
    return message.as_bytes()


# Replies from the mail programs customers use

FI_REPLY = ("Hei,\n\nkiitos vastauksesta. Maksu näkyy kuitenkin edelleen tiliotteellani, vaikka se "
            "piti hyvittää jo viime viikolla.\n\nYstävällisin terveisin\nMatti Meikäläinen\n040 123 4567")
SV_REPLY = ("Hej,\n\ntack för svaret. Men avgiften på 5,90 € syns fortfarande på mitt kontoutdrag."
            "\n\nVänliga hälsningar\nAnna Åkerlund")
EN_REPLY = ("Hello,\n\nThanks for the quick answer. Two things are still open:\n\n"
            "- the “service fee” of € 5.90 is still on my statement, and\n"
            "- the card was never sent (see your card page).\n\nBest regards,\nJohn Smith")
GMAIL_FI = ("Hei!\n\nKiitos nopeasta vastauksesta. Olen edelleen sitä mieltä, että kulu oli aiheeton. "
            "Voitteko\nvielä tarkistaa asian?")


@pytest.mark.parametrize(
    ("name", "address", "display_name", "subject", "language", "text"),
    [
        ("outlook_fi.eml", "matti.meikalainen@example.fi", "Matti Meikäläinen",
         "VS: Vastaus palautteeseesi FB-2026-000123", "fi", FI_REPLY),
        ("outlook_sv.eml", "anna.akerlund@exempel.se", "Anna Åkerlund",
         "SV: Svar på din respons FB-2026-000123", "sv", SV_REPLY),
        ("outlook_en_html_only.eml", "john.smith@example.co.uk", "John Smith",
         "RE: Answer to your feedback FB-2026-000123", "en", EN_REPLY),
        ("outlook_original_message.eml", "mary.jones@example.com", "Jones, Mary",
         "RE: Your feedback FB-2026-000123: we need more time", "en",
         "Hello,\n\nI sent the receipt to the branch already.\n\nRegards,\nMary"),
        ("gmail_fi.eml", "maija.mallikas@gmail.com", "Maija Mallikas",
         "Re: Vastaus palautteeseesi FB-2026-000123", None, GMAIL_FI),
        ("gmail_en.eml", "j.doe@gmail.com", "J. Doe",
         "Re: Your feedback FB-2026-000123: we need more time", None,
         "Thanks, that helps. I'll visit the branch on Monday."),
        ("gmail_sv.eml", "lars.berg@gmail.com", "Lars Berg", "Re: Svar på din respons FB-2026-000123",
         None, "Hej igen,\n\njag har fortfarande inte fått något nytt kort."),
        ("apple_mail_fi.eml", "maija.m@icloud.com", "Maija M", "Re: Vastaus palautteeseesi FB-2026-000123",
         None, "Hei, liitteenä kuva kuitista. Toivottavasti asia selviää nyt, koska olen odottanut jo "
               "kolme viikkoa."),
        ("thunderbird_sv.eml", "erik@lindqvist.fi", "Erik Lindqvist",
         "Re: Svar på din respons FB-2026-000123", "sv",
         "Hej,\n\njag bifogar kontoutdraget. Avgiften drogs två gånger den 3 mars, se rad 4 och rad 7 "
         "i utdraget."),
        ("windows_1252.eml", "pekka@example.fi", "Pekka Päivärinta", "Muistutus vaikka maksoin – 12,50 €",
         None, "Hyvä asiakaspalvelu,\n\nmaksoin laskun 12,50 € “ajallaan” – silti tuli muistutus."
               "\n\nTerveisin\nPekka"),
    ],
)
def test_a_reply_reads_as_the_customer_wrote_it_without_what_it_quotes(
        name, address, display_name, subject, language, text):
    mail = read_mail(sample(name))
    assert (mail.from_address, mail.from_name, mail.subject, mail.language) == (
        address, display_name, subject, language)
    assert mail.text == text
    assert (mail.automatic, mail.bounce, mail.spam) == ("", None, False)


@pytest.mark.parametrize("name", ["outlook_fi.eml", "outlook_sv.eml", "gmail_fi.eml", "gmail_en.eml",
                                  "gmail_sv.eml", "apple_mail_fi.eml"])
def test_the_html_of_a_reply_reads_as_its_plain_text_does(name):
    """Outlook's reply header (Finnish, Swedish), Gmail's quote, Apple Mail's cite blocks and
    the signatures are cut from the HTML the same as from the plain text."""
    assert read_mail(html_only(sample(name))).text == read_mail(sample(name)).text


@pytest.mark.parametrize("name", sorted(path.name for path in MAIL.glob("*.eml")))
def test_a_mail_reads_the_same_with_the_line_ends_it_has_on_the_wire(name):
    raw = sample(name)
    assert read_mail(raw.replace(b"\n", b"\r\n")) == read_mail(raw)


def test_a_reply_names_the_messages_it_answers_in_reply_to_first_then_newest_first():
    mail = read_mail(sample("outlook_fi.eml"))
    assert mail.message_id == ("<HE1PR0701MB2394A7C1F2B85D0E6AC3E1B9C3A72@HE1PR0701MB2394.eurprd07"
                               ".prod.outlook.com>")
    assert mail.references == (OUR_ANSWER, OUR_CONFIRMATION)


@pytest.mark.parametrize(
    ("headers", "message_id", "references"),
    [
        (("In-Reply-To: <b@x>", "References: <a@x> <b@x>"), "<reply-1@example.fi>", ("<b@x>", "<a@x>")),
        (("References: <a@x>\n <b@x>\n\t<c@x>",), "<reply-1@example.fi>", ("<c@x>", "<b@x>", "<a@x>")),
        (("In-Reply-To: <b@x> (Matti's message of 12 March)",), "<reply-1@example.fi>", ("<b@x>",)),
        (("Message-ID: not an id", "In-Reply-To: nothing here"), "", ()),
        (("Message-ID:", "References: <a@x> <a@x> <b@x>"), "", ("<b@x>", "<a@x>")),
        (("In-Reply-To: <B@X>", "References: <b@x>"), "<reply-1@example.fi>", ("<B@X>", "<b@x>")),
    ],
)
def test_message_ids_are_read_as_written_each_once(headers, message_id, references):
    mail = read_mail(plain_mail("Kiitos.", *headers))
    assert (mail.message_id, mail.references) == (message_id, references)


def test_a_long_thread_keeps_its_newest_references():
    ids = [f"<m{number}@x>" for number in range(100)]
    mail = read_mail(plain_mail("Kiitos.", "References: " + "\n ".join(ids)))
    assert mail.references[:3] == ("<m99@x>", "<m98@x>", "<m97@x>")
    assert len(mail.references) == 30


# Cutting the quoted text

@pytest.mark.parametrize(
    ("body", "text"),
    [
        # Quotes marked with ">", and the attribution before them, in the three languages.
        ("Kiitos!\n\nOn Wed, 11 Mar 2026 at 14:05, Asiakaspalvelu <feedback@bank.example> wrote:\n"
         "> Hyvä asiakas\n> olemme ...\n", "Kiitos!"),
        ("Kiitos!\n\nke 11.3.2026 klo 14.05 Asiakaspalvelu <feedback@bank.example> kirjoitti:\n\n"
         "> Hyvä asiakas\n", "Kiitos!"),
        ("Kiitos!\n\nAsiakaspalvelu kirjoitti 11.3.2026 kello 14.05:\n> Hyvä asiakas\n", "Kiitos!"),
        ("Tack!\n\nDen 11 mars 2026 kl. 14:05 skrev Kundtjänst <feedback@bank.example>:\n> Bästa kund\n",
         "Tack!"),
        ("Tack!\n\nDen 2026-03-11 kl. 14:05, skrev Kundtjänst:\n> Bästa kund\n", "Tack!"),
        ("Tack!\n\n11 mars 2026 kl. 14:05 skrev Kundtjänst <feedback@bank.example>:\n\n> Bästa kund\n",
         "Tack!"),
        ("Thanks!\n\nAsiakaspalvelu wrote:\n> Dear customer\n", "Thanks!"),
        # Gmail wraps a long attribution.
        ("Thanks!\n\nOn Wed, Mar 11, 2026 at 2:05 PM Customer Service of The Bank <\n"
         "feedback@bank.example> wrote:\n\n> Dear customer\n", "Thanks!"),
        # Answers written between the quoted lines stay.
        ("On 11.3.2026 14.05, Asiakaspalvelu wrote:\n> Onko maksu hyvitetty?\nEi ole.\n"
         "> Toimitetaanko kortti?\nKyllä, kiitos.\n", "Ei ole.\nKyllä, kiitos."),
        # An attribution of quoted text that is not marked: everything from it on goes.
        ("Kiitos!\n\n11.3.2026 klo 14.05 Asiakaspalvelu kirjoitti:\n\nHyvä asiakas,\nolemme ...\n",
         "Kiitos!"),
        # Outlook's header blocks.
        ("Kiitos!\n\n________________________________\nLähettäjä: Asiakaspalvelu <feedback@bank.example>\n"
         "Lähetetty: keskiviikko 11. maaliskuuta 2026 14.05\nVastaanottaja: Matti <m@example.fi>\n"
         "Aihe: Vastaus palautteeseesi FB-2026-000123\n\nHyvä asiakas", "Kiitos!"),
        ("Tack!\n\nFrån: Kundtjänst <feedback@bank.example>\nSkickat: den 11 mars 2026 14:05\n"
         "Till: Anna <anna@exempel.se>\nKopia: Erik <erik@exempel.se>\nÄmne: Svar på din respons\n\n"
         "Bästa kund",
         "Tack!"),
        ("Thanks!\n\nFrom: Customer Service <feedback@bank.example>\nSent: Wednesday, March 11, 2026 "
         "2:05 PM\nTo: John Smith <john@example.co.uk>;\n Mary Smith <mary@example.co.uk>\n"
         "Subject: Answer\n\nDear customer", "Thanks!"),
        ("Kiitos!\n\nLähettäjä: Asiakaspalvelu <feedback@bank.example>\nPäivämäärä: keskiviikkona 11. "
         "maaliskuuta 2026 klo 14.05\nVastaanottaja: Matti <m@example.fi>\nAihe: Vastaus\n\nHyvä asiakas",
         "Kiitos!"),
        ("Thanks!\n\n*From:* Customer Service <feedback@bank.example>\n*Sent:* Wednesday, March 11, 2026\n"
         "*To:* John\n*Subject:* Answer\n", "Thanks!"),
        # Original-message and forwarding separators.
        ("Kiitos!\n\n-----Alkuperäinen viesti-----\nHyvä asiakas", "Kiitos!"),
        ("Tack!\n\n-----Ursprungligt meddelande-----\nBästa kund", "Tack!"),
        ("Thanks!\n\n-----Original Message-----\nDear customer", "Thanks!"),
        ("Katso alla.\n\n---------- Forwarded message ---------\nFrom: x", "Katso alla."),
        ("Katso alla.\n\n-------- Välitetty viesti --------\nAihe: x", "Katso alla."),
        ("Se nedan.\n\n-------- Vidarebefordrat meddelande --------\nÄmne: x", "Se nedan."),
        ("See below.\n\nBegin forwarded message:\n\nFrom: x", "See below."),
        # Signatures.
        ("Kiitos!\n\n-- \nMatti Meikäläinen\nPuh. 040 123 4567", "Kiitos!"),
        ("Kiitos!\n--\nMatti", "Kiitos!"),
        ("Kiitos!\n\nLähetetty iPhonesta", "Kiitos!"),
        ("Tack!\n\nSkickat från min iPhone\n\n> Bästa kund", "Tack!"),
        ("Thanks!\n\nGet Outlook for Android\n________________________________\nFrom: x\nSent: y\nTo: z\n",
         "Thanks!"),
        ("\n\n  \nKiitos!\n\n\n\nTerveisin\nMatti\n\n\n", "Kiitos!\n\nTerveisin\nMatti"),
    ],
)
def test_quoted_text_attributions_header_blocks_and_signatures_are_cut(body, text):
    assert text_of(body) == text


@pytest.mark.parametrize(
    "body",
    [
        # Sentences that look a little like the marks, and are the customer's own.
        "Asiakaspalvelija kirjoitti:\nmaksu palautetaan. Ei palautettu.",
        "Ni skrev den 10.3.2026 följande:\nAvgiften återbetalas.\nMen den har inte återbetalats.",
        "You wrote:\nthe fee is refunded. It was not.",
        "From: my old account to the new one\nthe transfer failed.",
        "From: Matti\nTo: the bank\nPlease call me.",
        "Sent from my account 300 euros to the wrong person.\nPlease help.",
        "--- Tärkeää ---\nKortti on kadonnut.",
        "Lähetetty iPhonesta on kuva kuitista liitteenä, mutta sitä ei näy.",
        "Kiitos.\n\n1. Maksu\n2. Kortti\n\nTerveisin\nMatti",
    ],
)
def test_the_customers_own_text_is_kept_whatever_it_resembles(body):
    assert text_of(body) == body


def test_a_reply_that_only_quotes_has_no_text():
    assert text_of("> Hyvä asiakas,\n> olemme tarkistaneet asian.\n") == ""


def test_format_flowed_lines_are_joined_as_the_program_meant():
    body = "Tämä on pitkä rivi, jonka ohjelma \n katkaisi kahdeksi.\n>> lainaus \n>> jatkuu\nLoppu.\n"
    mail = read_mail(plain_mail(body, extra_type="; format=flowed"))
    assert mail.text == "Tämä on pitkä rivi, jonka ohjelma katkaisi kahdeksi.\nLoppu."


def test_format_flowed_with_delsp_deletes_the_space_of_each_soft_break():
    body = "Yhdys \nsana ja pitkä  \nrivi.\n"
    mail = read_mail(plain_mail(body, extra_type="; format=flowed; delsp=yes"))
    assert mail.text == "Yhdyssana ja pitkä rivi."


# HTML into text

@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hei,</p><p>maksu puuttuu.</p>", "Hei,\n\nmaksu puuttuu."),
        ("<div>Hei,</div><div><br></div><div>maksu puuttuu.</div>", "Hei,\n\nmaksu puuttuu."),
        ("Rivi yksi<br>rivi kaksi<br/>rivi kolme", "Rivi yksi\nrivi kaksi\nrivi kolme"),
        ("<P CLASS=MsoNormal>Yksi<o:p></o:p></P><P CLASS=MsoNormal><o:p>&nbsp;</o:p></P>"
         "<P CLASS=MsoNormal>Kaksi</P>", "Yksi\n\nKaksi"),
        ("<ul><li>kortti</li><li>tili<ol><li>yksi</li><li>kaksi</li></ol></li></ul>Loppu",
         "- kortti\n- tili\n  1. yksi\n  2. kaksi\n\nLoppu"),
        ('Katso <a href="https://evil.example/">tilisi sivu</a>.', "Katso tilisi sivu."),
        ("<html><head><title>Otsikko</title><style>p {color:red}</style>"
         "<script>alert(1)</script></head><body>Teksti</body></html>", "Teksti"),
        ("<SCRIPT type=text/javascript>document.write('x')</SCRIPT >Teksti", "Teksti"),
        ("&lt;tili&gt; &amp; &quot;kortti&quot; &#8364; &euro; &auml;", '<tili> & "kortti" € € ä'),
        ("<table><tr><td>Summa</td><td>5,90 €</td></tr><tr><td>Päivä</td><td>3.3.</td></tr></table>",
         "Summa 5,90 €\nPäivä 3.3."),
        ("<pre>  sisennetty\n    koodi</pre>Sen jälkeen", "  sisennetty\n    koodi\n\nSen jälkeen"),
        ("<!--[if gte mso 9]><xml><o:OfficeDocumentSettings/></xml><![endif]--><![if !supportLists]>"
         "<span>·</span><![endif]>Lista", "·Lista"),
        ("Hinta < 5 € ja > 3 €", "Hinta < 5 € ja > 3 €"),
        ("<div>avaamaton <b>lihava<div>ja lohko", "avaamaton lihava\nja lohko"),
        ("<p>hyvin     paljon\n\n   välilyöntejä</p>", "hyvin paljon välilyöntejä"),
        ("<h1>Otsikko</h1>Teksti", "Otsikko\n\nTeksti"),
        ("<img src=cid:image001.png alt=Logo>Teksti", "Teksti"),
    ],
)
def test_html_reads_as_text(markup, text):
    assert read_mail(html_mail(markup)).text == text


@pytest.mark.parametrize(
    "markup",
    [
        # Gmail
        '<div dir="ltr">Uusi teksti</div><br><div class="gmail_quote"><div class="gmail_attr">On Wed, '
        'Mar 11, 2026 at 2:05 PM X &lt;x@bank.example&gt; wrote:<br></div><blockquote class="gmail_quote">'
        "Vanha</blockquote></div>",
        # Apple Mail
        '<div>Uusi teksti<br><blockquote type="cite">11.3.2026 kello 14.05, X kirjoitti:<br></blockquote>'
        '</div><blockquote type="cite"><div>Vanha</div></blockquote>',
        # Thunderbird
        '<p>Uusi teksti</p><div class="moz-cite-prefix">Den 2026-03-11 kl. 14:05, skrev X:<br></div>'
        '<blockquote type="cite" cite="mid:a@b">Vanha</blockquote><div class="moz-signature">-- <br>Matti'
        "</div>",
        # Outlook on the web and new Outlook
        '<div>Uusi teksti</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
        '<div id="divRplyFwdMsg"><b>From:</b> X<br><b>Sent:</b> Y</div><div>Vanha</div>',
        '<div>Uusi teksti</div><div id="x_divRplyFwdMsg"><b>Lähettäjä:</b> X</div><div>Vanha</div>',
        '<div>Uusi teksti</div><div id="mail-editor-reference-message-container"><div>Vanha</div></div>',
        # Outlook desktop, new and older
        "<p class=MsoNormal>Uusi teksti</p><div style='border:none;border-top:solid #E1E1E1 1.0pt;"
        "padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>Från:</b> X</p></div><p class=MsoNormal>Vanha</p>",
        "<p class=MsoNormal>Uusi teksti</p><div style='border:none;border-top:solid #B5C4DF 1.0pt;"
        "padding:3.0pt 0in 0in 0in'><p class=MsoNormal><b>From:</b> X</p></div><p>Vanha</p>",
        '<div>Uusi teksti</div><div class="OutlookMessageHeader">-----Original Message-----<br>From: X'
        "</div>Vanha",
        '<div>Uusi teksti</div><hr id="stopSpelling">Vanha',
        # Yahoo
        '<div>Uusi teksti</div><div class="yahoo_quoted"><div>On Wednesday, X wrote:</div>Vanha</div>',
    ],
)
def test_the_quoted_block_of_an_html_reply_is_cut(markup):
    assert read_mail(html_mail(markup)).text == "Uusi teksti"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ('<div>Kysymys:</div><blockquote style="margin:0 0 0 40px;border:none;padding:0px"><div>miksi '
         "maksu veloitettiin kahdesti?</div></blockquote><div>Terveisin Matti</div>",
         "Kysymys:\nmiksi maksu veloitettiin kahdesti?\nTerveisin Matti"),
        ("<div>Uusi teksti</div><blockquote style='BORDER-LEFT: #000000 2px solid; PADDING-LEFT: 5px'>"
         "Vanha</blockquote>", "Uusi teksti"),
        ("<div>Uusi teksti</div><div>On 11.3.2026 14.05, X wrote:</div><blockquote>Vanha</blockquote>",
         "Uusi teksti"),
    ],
)
def test_a_blockquote_is_a_quote_only_when_marked_as_one(markup, text):
    assert read_mail(html_mail(markup)).text == text


def test_an_answer_written_after_an_html_quote_stays():
    markup = ("<div>On 11.3.2026 14.05, X wrote:</div><blockquote type=cite>Onko maksu hyvitetty?"
              "</blockquote><div>Ei ole.</div>")
    assert read_mail(html_mail(markup)).text == "Ei ole."


def test_a_reply_in_html_only_is_turned_into_text():
    mail = read_mail(sample("outlook_en_html_only.eml"))
    assert "<" not in mail.text and "alert" not in mail.text and "MsoNormal" not in mail.text
    assert mail.text == EN_REPLY


# Charsets and encoded words

@pytest.mark.parametrize(
    ("body", "charset", "encoding", "text"),
    [
        ("Hinta 5,90 \x80".encode("latin-1"), "iso-8859-1", "8bit", "Hinta 5,90 €"),
        ("Hinta 5,90 €".encode("cp1252"), "windows-1252", "8bit", "Hinta 5,90 €"),
        ("Hyvä".encode(), "us-ascii", "8bit", "Hyvä"),
        ("Hyvä".encode(), "x-unknown", "8bit", "Hyvä"),
        ("Hyvä".encode("cp1252"), "utf-8", "8bit", "Hyvä"),
        ("Hyvä".encode(), "rot13", "8bit", "Hyvä"),
        (b"SHl2w6QgcMOkaXbDpCE=", "utf-8", "base64", "Hyvä päivä!"),
        (b"SHl2w6QgcMOkaXbDpCE", "utf-8", "base64", "Hyvä päivä!"),
        (b"Hyv=C3=A4 p=C3=A4iv=\n=C3=A4!", "utf-8", "quoted-printable", "Hyvä päivä!"),
        ("Hyvä\x00 päivä\x07!".encode(), "utf-8", "8bit", "Hyvä päivä!"),
        ("Hyvä".encode("utf-16"), "utf-16", "8bit", "Hyvä"),
    ],
)
def test_the_text_is_decoded_whatever_charset_the_program_claims(body, charset, encoding, text):
    assert read_mail(plain_mail(body, charset=charset, encoding=encoding)).text == text


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        ("=?utf-8?q?Re=3A_Vastaus_palautteeseesi_FB-2026-000123_=E2=80=93_p=C3=A4=C3=A4?=",
         "Re: Vastaus palautteeseesi FB-2026-000123 – pää"),
        ("=?UTF-8?B?U3ZhciBww6UgZGluIHJlc3BvbnM=?=", "Svar på din respons"),
        ("=?iso-8859-1?q?Hyv=E4?=\n =?iso-8859-1?q?_p=E4iv=E4?=", "Hyvä päivä"),
        ("Re: Vastaus\n\tpalautteeseesi", "Re: Vastaus palautteeseesi"),
        ("Raw UTF-8 hyvä", "Raw UTF-8 hyvä"),
        ("=?x-unknown?q?Hyv=E4?=", "Hyv\ufffd"),
        ("=?utf-8?b?!!!?= sana", "sana"),
        ("", ""),
    ],
)
def test_a_subject_is_decoded_onto_one_line(header, subject):
    mail = read_mail(plain_mail("Kiitos.", f"Subject: {header}"))
    assert mail.subject == subject
    assert "\n" not in mail.subject and "\t" not in mail.subject


# The sender

@pytest.mark.parametrize(
    ("headers", "address", "name"),
    [
        (("From: =?utf-8?q?Matti_Meik=C3=A4l=C3=A4inen?= <Matti.Meikalainen@Example.FI>",),
         "matti.meikalainen@example.fi", "Matti Meikäläinen"),
        (('From: "Jones, Mary" <mary@example.com>',), "mary@example.com", "Jones, Mary"),
        (("From: mary@example.com (Mary Jones)",), "mary@example.com", ""),
        (("From: mary@example.com",), "mary@example.com", ""),
        (("From: Mätti <mätti@exämple.fi>",), "mätti@exämple.fi", "Mätti"),
    ],
)
def test_the_sender_is_the_one_from_address(headers, address, name):
    mail = read_mail(plain_mail("Kiitos.", *headers))
    assert (mail.from_address, mail.from_name) == (address, name)


@pytest.mark.parametrize(
    "headers",
    [
        ("From: a@example.fi, b@example.fi",),
        ("From: a@example.fi", "From: b@example.fi"),
        ("From: undisclosed-recipients:;",),
        ("From: Matti <m@example.fi> <e@evil.example>",),
        ("From: matti",),
        ('From: "Matti" <>',),
        ("From: " + "a" * 3000 + "@example.fi",),
        ("X-Not-From: a@example.fi",),
    ],
)
def test_no_sender_is_named_when_from_is_missing_doubled_or_broken(headers):
    mail = read_mail(plain_mail("Kiitos.", *headers).replace(
        b"From: Matti Meik\xc3\xa4l\xc3\xa4inen <matti@example.fi>\n", b""))
    assert mail.from_address == ""


# Automatic mail

@pytest.mark.parametrize(
    ("headers", "subject", "reason"),
    [
        (("Auto-Submitted: auto-replied",), "Re: x", "auto-submitted"),
        (("Auto-Submitted: auto-generated",), "Re: x", "auto-submitted"),
        (("Auto-Submitted: Auto-Notified (vacation)",), "Re: x", "auto-submitted"),
        (("X-Autoreply: yes",), "Re: x", "x-autoreply"),
        (("X-Autorespond: Out of office",), "Re: x", "x-autoreply"),
        (("Precedence: bulk",), "Re: x", "precedence"),
        (("Precedence: JUNK",), "Re: x", "precedence"),
        (("Precedence: list",), "Re: x", "precedence"),
        (("Precedence: auto_reply",), "Re: x", "precedence"),
        (("List-Id: Uutiskirje <news.example.fi>",), "Re: x", "list"),
        (("Return-Path: <>",), "Re: x", "null-return-path"),
        (("Return-Path: < >",), "Re: x", "null-return-path"),
        (("From: MAILER-DAEMON@mx.example.fi",), "Returned mail", "mailer-daemon"),
        ((), "Automaattinen vastaus: Vastaus palautteeseesi FB-2026-000123", "out-of-office-subject"),
        ((), "Automaattivastaus: poissa", "out-of-office-subject"),
        ((), "Poissa toimistolta 16.-20.3.", "out-of-office-subject"),
        ((), "Poissa: Vastaus palautteeseesi", "out-of-office-subject"),
        ((), "Poissaoloilmoitus", "out-of-office-subject"),
        ((), "Autosvar: Svar på din respons", "out-of-office-subject"),
        ((), "Automatiskt svar: Svar på din respons", "out-of-office-subject"),
        ((), "Frånvaro: Svar på din respons", "out-of-office-subject"),
        ((), "Frånvarande till 20 mars", "out-of-office-subject"),
        ((), "Out of Office: Answer to your feedback", "out-of-office-subject"),
        ((), "Out of the office until Monday", "out-of-office-subject"),
        ((), "Automatic reply: Answer to your feedback", "out-of-office-subject"),
        ((), "AutoReply: Answer", "out-of-office-subject"),
        ((), "Re: Out of office", "out-of-office-subject"),
        ((), "Auto-Response", "out-of-office-subject"),
    ],
)
def test_automatic_mail_is_known_and_says_why(headers, subject, reason):
    assert read_mail(plain_mail("Olen lomalla.", f"Subject: {subject}", *headers)).automatic == reason


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        (("Auto-Submitted: no",), "Re: x"),
        (("Auto-Submitted: No (a person wrote this)",), "Re: x"),
        (("X-Autoreply: no",), "Re: x"),
        (("Precedence: first-class",), "Re: x"),
        (("Return-Path: <matti@example.fi>",), "Re: x"),
        (("X-Auto-Response-Suppress: All",), "Re: x"),
        ((), "Poissa oleva hyvitys"),
        ((), "Frånvaroavdrag på lönen"),
        ((), "Automatic payments failed"),
        ((), "Re: Vastaus palautteeseesi FB-2026-000123"),
        ((), "Outlook ei näytä viestiä"),
    ],
)
def test_a_person_s_mail_is_not_taken_for_automatic(headers, subject):
    assert read_mail(plain_mail("Kiitos.", f"Subject: {subject}", *headers)).automatic == ""


def test_an_out_of_office_reply_from_exchange_is_automatic():
    mail = read_mail(sample("outlook_out_of_office_fi.eml"))
    assert mail.automatic == "auto-submitted"
    assert mail.references == (OUR_ANSWER,)
    assert mail.text.startswith("Olen lomalla 20.3. asti.")


# Delivery status notifications

def test_a_postfix_report_of_an_unknown_recipient_fails_the_message_it_returns():
    mail = read_mail(sample("postfix_failed_511.eml"))
    assert mail.bounce == Bounce(
        original_message_id=OUR_ANSWER, failed=True, delayed=False, recipient="nobody@example.fi",
        status="5.1.1", diagnostic="550 5.1.1 <nobody@example.fi>: Recipient address rejected: "
                                   "User unknown in virtual mailbox table")
    assert mail.automatic == "auto-submitted"


def test_a_postfix_report_of_a_delay_fails_nothing():
    bounce = read_mail(sample("postfix_delayed_441.eml")).bounce
    assert bounce == Bounce(
        original_message_id=OUR_ANSWER, failed=False, delayed=True, recipient="slow@example.fi",
        status="4.4.1", diagnostic="connect to mx.example.fi[198.51.100.7]:25: Connection timed out")


def test_an_exchange_report_of_an_unknown_recipient_fails_the_message_it_returns():
    bounce = read_mail(sample("exchange_ndr.eml")).bounce
    assert bounce == Bounce(
        original_message_id=OUR_ANSWER, failed=True, delayed=False, recipient="old.address@example.fi",
        status="5.1.10",
        diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")


def report(status_blocks, returned="Message-ID: <ours@bank.example>\nSubject: FB-2026-000999\n",
           kind="message/delivery-status", returned_kind="text/rfc822-headers",
           report_type="delivery-status"):
    return (
        "From: MAILER-DAEMON@mx.example.fi\nTo: feedback@bank.example\nSubject: Returned mail: "
        "Vastaus palautteeseesi FB-2026-000123\nMessage-ID: <dsn@mx.example.fi>\nMIME-Version: 1.0\n"
        f"Content-Type: multipart/report; report-type={report_type}; boundary=R\n\n"
        "--R\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        f"--R\nContent-Type: {kind}\n\nReporting-MTA: dns; mx.example.fi\n\n{status_blocks}\n"
        + (f"--R\nContent-Type: {returned_kind}\n\n{returned}\n" if returned is not None else "")
        + "--R--\n").encode()


@pytest.mark.parametrize(
    ("blocks", "failed", "recipient", "status"),
    [
        ("Final-Recipient: rfc822; a@example.fi\nAction: delayed\nStatus: 4.4.7\n\n"
         "Final-Recipient: rfc822; b@example.fi\nAction: failed\nStatus: 5.2.2 (mailbox full)\n",
         True, "b@example.fi", "5.2.2"),
        ("Final-Recipient: rfc822;<A@Example.FI>\nAction: Failed\nStatus: 5.7.1\n", True, "a@example.fi",
         "5.7.1"),
        ("Final-Recipient: rfc822; a@example.fi\nAction: failed\nStatus: 4.4.1\n", False, "a@example.fi",
         "4.4.1"),
        ("Final-Recipient: rfc822; a@example.fi\nAction: failed\n", False, "a@example.fi", ""),
        ("Final-Recipient: rfc822; a@example.fi\nAction: delivered\nStatus: 2.0.0\n", False, "a@example.fi",
         "2.0.0"),
        ("Original-Recipient: rfc822; a@example.fi\nAction: relayed\nStatus: 2.0.0\n", False,
         "a@example.fi", "2.0.0"),
        ("", False, "", ""),
    ],
)
def test_only_a_recipient_that_failed_for_good_fails_a_message(blocks, failed, recipient, status):
    bounce = read_mail(report(blocks)).bounce
    assert (bounce.failed, bounce.delayed, bounce.recipient, bounce.status) == (
        failed, not failed, recipient, status)
    assert bounce.original_message_id == "<ours@bank.example>"


def test_the_returned_message_is_found_by_its_message_id_never_by_the_subject():
    blocks = "Final-Recipient: rfc822; a@example.fi\nAction: failed\nStatus: 5.1.1\n"
    assert read_mail(report(blocks, returned=None)).bounce.original_message_id == ""
    returned = "Subject: Vastaus palautteeseesi FB-2026-000123\n"
    assert read_mail(report(blocks, returned=returned)).bounce.original_message_id == ""
    whole = "Message-ID: <ours@bank.example>\nSubject: x\n\nHyvä asiakas\n"
    assert read_mail(report(blocks, returned=whole, returned_kind="message/rfc822")).bounce == Bounce(
        "<ours@bank.example>", True, False, "a@example.fi", "5.1.1", "")


def test_an_internationalised_delivery_report_is_read_too():
    blocks = "Final-Recipient: utf-8; mätti@example.fi\nAction: failed\nStatus: 5.1.1\n"
    bounce = read_mail(report(blocks, kind="message/global-delivery-status",
                              returned_kind="message/global-headers")).bounce
    assert (bounce.failed, bounce.recipient, bounce.original_message_id) == (
        True, "mätti@example.fi", "<ours@bank.example>")


def test_a_long_diagnostic_is_trimmed():
    blocks = ("Final-Recipient: rfc822; a@example.fi\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; "
              + "550 no such user " * 40 + "\n")
    assert len(read_mail(report(blocks)).bounce.diagnostic) == 200


def test_a_read_receipt_or_a_plain_bounce_is_no_delivery_report():
    blocks = "Final-Recipient: rfc822; a@example.fi\nAction: failed\nStatus: 5.1.1\n"
    assert read_mail(report(blocks, report_type="disposition-notification")).bounce is None
    qmail = plain_mail("Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver...",
                       "Return-Path: <>", "From: MAILER-DAEMON@example.fi")
    mail = read_mail(qmail)
    assert (mail.bounce, mail.automatic) == (None, "null-return-path")


def test_a_delivery_report_is_automatic_even_without_the_headers_that_say_so():
    blocks = "Final-Recipient: rfc822; a@example.fi\nAction: failed\nStatus: 5.1.1\n"
    raw = report(blocks).replace(b"From: MAILER-DAEMON@mx.example.fi", b"From: postmaster@mx.example.fi")
    assert read_mail(raw).automatic == "delivery-report"


# The spam verdict

@pytest.mark.parametrize(
    ("headers", "spam_header", "spam_values", "spam"),
    [
        (("X-Spam-Flag: YES",), "X-Spam-Flag", {"yes"}, True),
        (("X-Spam-Flag: NO",), "X-Spam-Flag", {"yes"}, False),
        (("X-Spam-Status: Yes, score=7.2 required=5.0 tests=BAYES_99",), "X-Spam-Status", {"yes"}, True),
        (("X-Spam-Status: No, score=0.1",), "X-Spam-Status", {"yes"}, False),
        (("X-Spam: Yes",), "x-spam", {"Yes"}, True),
        (("X-MS-Exchange-Organization-SCL: 9",), "X-MS-Exchange-Organization-SCL", {"5", "6", "9"}, True),
        (("X-Spam-Flag: NO", "X-Spam-Flag: YES"), "X-Spam-Flag", {"yes"}, True),
        (("X-Spam-Flag: YES",), "", {"yes"}, False),
        ((), "X-Spam-Flag", {"yes"}, False),
        (("X-Spam-Flag:",), "X-Spam-Flag", {""}, False),
    ],
)
def test_the_mail_servers_spam_verdict_is_read_from_the_configured_header(
        headers, spam_header, spam_values, spam):
    mail = read_mail(plain_mail("Osta nyt!", *headers), spam_header=spam_header,
                     spam_values=frozenset(spam_values))
    assert mail.spam is spam


# The bank's DMARC verdict (Authentication-Results, RFC 8601)

@pytest.mark.parametrize(
    ("results", "dmarc_pass"),
    [
        (["mail.bank.example; dmarc=pass (p=reject dis=none) header.from=example.fi"], True),
        (["Mail.Bank.Example; DMARC=Pass header.from=Example.FI"], True),
        (["mail.bank.example 1; dmarc=pass header.from=example.fi"], True),
        (['"mail.bank.example"; dmarc = pass header.from = "example.fi"'], True),
        (["mail.bank.example;\n\tdkim=pass (2048-bit key; unprotected) header.d=example.fi;\n"
          "\tspf=pass (mail.bank.example: domain of m@example.fi designates 192.0.2.1 as permitted "
          "sender) smtp.mailfrom=m@example.fi;\n\tdmarc=pass (p=none dis=none) header.from=example.fi"],
         True),
        (["mail.bank.example; dmarc=pass header.from=m@example.fi"], True),
        (["mail.bank.example; dmarc=fail (p=reject dis=reject) header.from=example.fi"], False),
        (["mail.bank.example; dmarc=none header.from=example.fi"], False),
        (["mail.bank.example; dmarc=pass header.from=other.example"], False),
        (["mail.bank.example; dmarc=pass header.from=sub.example.fi"], False),
        (["mail.bank.example; dmarc=pass"], False),
        (["mail.bank.example; dkim=pass header.d=example.fi; spf=pass smtp.mailfrom=example.fi"], False),
        (["mail.bank.example; none"], False),
        (["mail.bank.example; dkim=fail (dmarc=pass header.from=example.fi) header.d=example.fi"], False),
        (['mail.bank.example; dkim=pass reason="dmarc=pass header.from=example.fi" header.d=x'], False),
        (["mx.attacker.example; dmarc=pass header.from=example.fi"], False),
        (["mail.bank.example.attacker.example; dmarc=pass header.from=example.fi"], False),
        # The sender's own header, further down than our server's, never counts.
        (["mail.bank.example; dmarc=fail (p=reject dis=none) header.from=example.fi",
          "mail.bank.example; dmarc=pass header.from=example.fi"], False),
        (["mail.bank.example; dkim=pass header.d=example.fi",
          "mail.bank.example; dmarc=pass header.from=example.fi"], False),
        (["mx.other.example; dmarc=fail header.from=example.fi",
          "mail.bank.example; dmarc=pass header.from=example.fi"], True),
        (["mail.bank.example; dmarc=pass header.from=example.fi; dmarc=fail header.from=example.fi"], True),
        ([], False),
        (["mail.bank.example; dmarc=pass header.from=example.fi (unclosed"], True),
        (['mail.bank.example; dmarc=pass header.from="example.fi'], False),
        ([";;;"], False),
        ([""], False),
    ],
)
def test_dmarc_passes_only_by_the_topmost_verdict_of_the_banks_own_server(results, dmarc_pass):
    headers = [f"Authentication-Results: {value}" for value in results]
    mail = read_mail(plain_mail("Kiitos.", "From: Matti <matti@Example.fi>", *headers))
    assert mail.dmarc_pass is dmarc_pass


def test_a_forged_verdict_below_the_banks_failing_one_is_ignored():
    """The sender writes `Authentication-Results: mail.bank.example; dmarc=pass` into their
    mail; our server adds its own, saying fail, on top. (Our server also removes headers that
    claim its id, RFC 8601 §5; reading only the topmost one holds even where it does not.)"""
    raw = sample("thunderbird_sv.eml").replace(
        b"User-Agent: Mozilla Thunderbird\n",
        b"User-Agent: Mozilla Thunderbird\nAuthentication-Results: mail.bank.example; dmarc=pass "
        b"(p=reject dis=none) header.from=lindqvist.fi\n")
    assert read_mail(raw).dmarc_pass is False
    assert read_mail(raw, authserv_id="").dmarc_pass is False


def test_no_verdict_is_trusted_without_a_trusted_server():
    raw = sample("outlook_fi.eml")
    assert read_mail(raw).dmarc_pass is True
    assert read_mail(raw, authserv_id="").dmarc_pass is False
    assert read_mail(raw, authserv_id="mx.other.example").dmarc_pass is False


def test_a_verdict_about_a_forged_from_does_not_pass_the_forged_address():
    """Our server's verdict is about the From domain it saw: a pass for the attacker's domain
    says nothing about the customer's."""
    raw = plain_mail("Kiitos.", "From: Matti <matti@example.fi>",
                     "Authentication-Results: mail.bank.example; dmarc=pass header.from=attacker.example")
    assert read_mail(raw).dmarc_pass is False


def test_a_mail_without_one_sender_never_passes_dmarc():
    raw = plain_mail("Kiitos.", "From: a@example.fi, b@example.fi",
                     "Authentication-Results: mail.bank.example; dmarc=pass header.from=example.fi")
    assert read_mail(raw).dmarc_pass is False


def test_an_internationalised_domain_matches_its_ascii_form():
    raw = plain_mail("Kiitos.", "From: Matti <matti@exämple.fi>",
                     "Authentication-Results: mail.bank.example; dmarc=pass header.from=xn--exmple-cua.fi")
    assert read_mail(raw).dmarc_pass is True


# Attachments and language

@pytest.mark.parametrize(
    ("name", "attachments"),
    [("thunderbird_sv.eml", 2), ("apple_mail_fi.eml", 1), ("outlook_fi.eml", 0), ("gmail_fi.eml", 0)],
)
def test_attachments_are_counted(name, attachments):
    assert read_mail(sample(name)).attachments == attachments


def test_inline_pictures_and_attached_mails_count_as_attachments():
    raw = (b"From: a@example.fi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=M\n\n"
           b"--M\nContent-Type: multipart/related; boundary=R\n\n"
           b"--R\nContent-Type: text/html\n\n<p>Kuva: <img src=cid:image001.png></p>\n"
           b"--R\nContent-Type: image/png; name=image001.png\nContent-ID: <image001.png>\n"
           b"Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--R--\n"
           b"--M\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n"
           b"Subject: vanha\n\nvanha viesti\n"
           b"--M\nContent-Type: application/octet-stream\nContent-Disposition: attachment\n\nxx\n--M--\n")
    mail = read_mail(raw)
    assert (mail.attachments, mail.text) == (3, "Kuva:")


@pytest.mark.parametrize(
    ("value", "language"),
    [("fi-FI", "fi"), ("sv-FI", "sv"), ("SV-SE", "sv"), ("en-US", "en"), ("en", "en"), ("fi, en", "fi"),
     ("de-DE", None), ("", None), ("finnish", None)],
)
def test_the_language_is_read_from_content_language(value, language):
    assert read_mail(plain_mail("Kiitos.", f"Content-Language: {value}")).language == language


def test_a_mail_without_content_language_has_no_language():
    assert read_mail(plain_mail("Kiitos.")).language is None


# The reference in a subject

@pytest.mark.parametrize(
    ("subject", "reference"),
    [
        ("Re: Vastaus palautteeseesi FB-2026-000123", "FB-2026-000123"),
        ("VS: fb-2026-000123 maksu", "FB-2026-000123"),
        ("[FB-2026-000123]", "FB-2026-000123"),
        ("SV: Svar på din respons FB-2026-000123 och FB-2026-000123", "FB-2026-000123"),
        ("Re:FB-2027-1234567", "FB-2027-1234567"),
        ("FB-2026-000123 ja FB-2026-000124", None),
        ("XFB-2026-000123", None),
        ("FB-2026-00012", None),
        ("FB-2026-0001234567890", None),
        ("FB-20260-000123", None),
        ("FB-2026-٠٠٠١٢٣", None),
        ("Kiitos", None),
        ("", None),
    ],
)
def test_a_subject_names_at_most_one_case_reference(subject, reference):
    assert subject_reference(subject) == reference


# Mail that cannot be read, and mail built to hurt

@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n", b"hello world", b"\x00\xff\xfe", "From: a@b.fi\n\nx",
     b"From: a@b.fi\nContent-Type: multipart/mixed; boundary=X\n\n" + b"--X\n\nx\n" * 1200,
     b"From: a@b.fi\n" + b"".join(b"Content-Type: multipart/mixed; boundary=B%d\n\n--B%d\n" % (n, n)
                                  for n in range(1200)),
     b"From: a@b.fi\n\n" + b"x\n" * 400_000],
)
def test_what_is_no_mail_is_unreadable(raw):
    with pytest.raises(Unreadable):
        read_mail(raw)


def test_a_mail_whose_body_cannot_be_decoded_still_names_its_sender_and_thread():
    raw = plain_mail(b"\xff\xfe=?!!", "In-Reply-To: " + OUR_ANSWER, encoding="base64",
                     charset="nonsense")
    mail = read_mail(raw)
    assert (mail.from_address, mail.references) == ("matti@example.fi", (OUR_ANSWER,))


def assert_storable(mail):
    """Every text is one a database stores and a page shows: no NULs or other controls (but the
    text's line breaks and tabs), no undecodable bytes."""
    assert isinstance(mail, Mail)
    one_line = [mail.subject, mail.from_name, mail.from_address, mail.message_id, *mail.references]
    if mail.bounce:
        one_line += [mail.bounce.recipient, mail.bounce.diagnostic, mail.bounce.original_message_id]
    for value in [*one_line, mail.text]:
        allowed = "\n\t" if value is mail.text else ""
        assert not [char for char in value if unicodedata.category(char) in ("Cc", "Cs")
                    and char not in allowed], repr(value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_read_as_a_mail_or_as_unreadable(raw):
    try:
        mail = read_mail(raw)
    except Unreadable:
        return
    assert_storable(mail)


SAMPLES = sorted(path.name for path in MAIL.glob("*.eml"))
TRICKY = [b"\n", b"\r\n", b"\n\n", b"--", b"=?", b"?=", b"=?utf-8?b?", b"=", b";", b":", b"<", b">",
          b'"', b"(", b")", b"\\", b"\x00", b"\xff", b"\xc3", b"\t", b"boundary=", b"charset=",
          b"Content-Type: multipart/mixed; boundary=", b"Content-Transfer-Encoding: base64\n",
          b"<blockquote>", b"<div id=appendonsend>", b"> ", b"-- \n", b"<!--", b"<script>",
          b"message/delivery-status", b"Authentication-Results: "]


@FEW
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(
    st.sampled_from(["flip", "cut", "insert", "delete"]), st.floats(0, 1), st.sampled_from(TRICKY),
    st.integers(0, 255)), min_size=1, max_size=8))
def test_a_real_mail_mutated_reads_or_is_unreadable(name, mutations):
    raw = bytearray(sample(name))
    for kind, where, token, byte in mutations:
        at = int(where * len(raw))
        if kind == "flip" and raw:
            raw[min(at, len(raw) - 1)] = byte
        elif kind == "cut":
            del raw[at:]
        elif kind == "insert":
            raw[at:at] = token
        else:
            del raw[at:at + 40]
    try:
        mail = read_mail(bytes(raw))
    except Unreadable:
        return
    assert_storable(mail)


header_values = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from([
    "=?utf-8?q?=C3?=", "=?utf-8?b?====?=", "=?unknown?x?y?=", "<>", '"', "(((", "a@", "@b", ";", ",,,",
    "x" * 1000, "=?utf-8?q?" + "a" * 500 + "?="])


@FEW
@given(st.lists(st.tuples(
    st.sampled_from(["From", "Subject", "Message-ID", "In-Reply-To", "References", "Authentication-Results",
                     "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted",
                     "Return-Path", "Content-Language", "X-Spam-Flag"]), header_values), max_size=10),
    st.binary(max_size=300))
def test_any_header_values_read_as_a_mail_or_as_unreadable(headers, body):
    raw = b"".join(f"{name}: {value}".encode("utf-8", "surrogateescape") + b"\n"
                   for name, value in headers) + b"From: a@b.fi\n\n" + body
    try:
        mail = read_mail(raw)
    except Unreadable:
        return
    assert_storable(mail)


@FEW
@given(st.text(max_size=3000))
def test_any_text_or_markup_is_cut_without_failing(text):
    assert isinstance(_new_text(text), str)
    assert isinstance(_html_text(text), str)


@FEW
@given(st.lists(st.sampled_from(["<", ">", "</div>", "<div>", "<blockquote>", "</blockquote>", "<p ",
                                 "class=gmail_quote", '"', "'", "<br>", "<ul><li>", "</li>", "<ol>",
                                 "</ol>", "<pre>", "</pre>", "<td>", "<tr>", "&nbsp;", "&#x", "x", " ",
                                 "\n", "<script>", "</script>", "<!--", "-->", "<![", "<?"]),
                max_size=200))
def test_broken_markup_is_read_without_failing(pieces):
    assert isinstance(_html_text("".join(pieces)), str)


# Speed on large and hostile mail (a mail up to INBOUND_MAX_BYTES, 10 MB by default, is read)

def fast(raw, seconds=3.0):
    started = time.perf_counter()
    with contextlib.suppress(Unreadable):
        read_mail(raw)
    return time.perf_counter() - started < seconds


HEAD = b"From: a@example.fi\nSubject: x\nMessage-ID: <a@example.fi>\n"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(HEAD + b"Content-Type: text/plain\n\n" + (b"> " + b"x" * 70 + b"\n") * 140_000,
                     id="quoted lines"),
        pytest.param(HEAD + b"Content-Type: text/plain\n\n" + b"On 12.3. 10:15 wrote: " * 450_000,
                     id="one long line"),
        pytest.param(HEAD + b"Content-Type: text/plain\n\n" + b"From: x\nSent: y\n" * 140_000,
                     id="header-like lines"),
        pytest.param(HEAD + b"Content-Type: text/html\n\n" + b"<" * 10_000_000, id="lone <"),
        pytest.param(HEAD + b"Content-Type: text/html\n\n" + b"<a " * 3_000_000, id="unclosed tags"),
        pytest.param(HEAD + b"Content-Type: text/html\n\n" + b"<div>" * 2_000_000, id="deep divs"),
        pytest.param(HEAD + b"Content-Type: text/html\n\n" + b'<a title="' * 1_000_000, id="open quotes"),
        pytest.param(HEAD + b"Content-Type: text/html\n\n" + b"<!--" * 2_500_000, id="open comments"),
        pytest.param(HEAD + b"Content-Type: text/html\n\n" + b"<div " + b"a=b " * 2_500_000 + b">",
                     id="endless attributes"),
        pytest.param(b"From: a@b.fi\nSubject: " + b"=?utf-8?q?a?= " * 700_000 + b"\n\nx", id="subject"),
        pytest.param(b"From: " + b"a@b.fi, " * 1_000_000 + b"\n\nx", id="from"),
        pytest.param(b"From: a@b.fi\nReferences: " + b"<a@b> " * 1_500_000 + b"\n\nx", id="references"),
        pytest.param(b"From: a@b.fi\nContent-Type: text/plain; " + b"a=b; " * 2_000_000 + b"\n\nx",
                     id="content-type"),
        pytest.param(b"From: a@b.fi\nAuthentication-Results: mail.bank.example; " + b'dmarc="' * 1_000_000
                     + b"\n\nx", id="authentication-results"),
        pytest.param(HEAD + b"Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n\n"
                     b"hello\n--X\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: "
                     b"base64\n\n" + (b"QUJD" * 19 + b"\n") * 130_000 + b"--X--\n", id="attachment"),
    ],
)
def test_a_large_hostile_mail_is_read_in_a_moment(raw):
    assert fast(raw)


def test_a_long_real_thread_is_cut_in_a_moment():
    """Longer than what is read of a text (100,000 characters): what is read ends at a whole
    line, so no half attribution is left behind."""
    body = "Kiitos.\n\n" + "".join(
        f"On {day % 28 + 1}.3.2026 10.15, X wrote:\n" + "> rivi\n" * 50 for day in range(2000))
    started = time.perf_counter()
    assert text_of(body) == "Kiitos."
    assert time.perf_counter() - started < 1.0
