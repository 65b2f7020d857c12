"""Customer-facing standard texts in Finnish, Swedish and English.

Staff write the answers themselves; these are the frames around them. The
complaint paragraph is the default of a text admins edit.
"""

GREETING = {"fi": "Hei {name},", "sv": "Hej {name},", "en": "Dear {name},"}
GREETING_NO_NAME = {"fi": "Hei,", "sv": "Hej,", "en": "Hello,"}
SIGNATURE = {
    "fi": "Ystävällisin terveisin\n{unit}\nPankki",
    "sv": "Med vänlig hälsning\n{unit}\nBanken",
    "en": "Kind regards\n{unit}\nThe Bank",
}
COMPLAINT_PARAGRAPH = {
    "fi": ("Jos et ole tyytyväinen ratkaisuumme, voit pyytää neuvoa Vakuutus- ja "
           "rahoitusneuvonnasta (FINE, www.fine.fi) tai viedä asian kuluttajariitalautakunnan "
           "(www.kuluttajariita.fi) käsiteltäväksi."),
    "sv": ("Om du inte är nöjd med vårt beslut kan du be om råd av Försäkrings- och "
           "finansrådgivningen (FINE, www.fine.fi) eller föra ärendet till "
           "konsumenttvistenämnden (www.kuluttajariita.fi)."),
    "en": ("If you are not satisfied with our decision, you can ask the Finnish Financial "
           "Ombudsman Bureau (FINE, www.fine.fi) for advice or take the matter to the Consumer "
           "Disputes Board (www.kuluttajariita.fi)."),
}
ANSWER_SUBJECT = {
    "fi": "Vastaus palautteeseesi {reference}",
    "sv": "Svar på din respons {reference}",
    "en": "Answer to your feedback {reference}",
}
INTERIM_SUBJECT = {
    "fi": "Palautteesi {reference} käsittely jatkuu",
    "sv": "Behandlingen av din respons {reference} fortsätter",
    "en": "Your feedback {reference}: we need more time",
}
EMAIL_FOOTER = {
    "fi": ("Tähän viestiin vastaaminen ei ole mahdollista: vastauksia ei lueta. Voit antaa "
           "palautetta palautelomakkeella. Omia pankkiasioitasi koskevat tiedot, kuten tilinumerot "
           "ja henkilötunnuksen, lähetä verkkopankin suojatulla viestillä."),
    "sv": ("Svar till detta meddelande läses inte. Du kan ge respons via responsblanketten. "
           "Uppgifter om dina egna bankärenden, som kontonummer och personbeteckning, skickar du "
           "tryggt via nätbankens krypterade meddelanden."),
    "en": ("Replies to this message are not read. You can give feedback on our feedback form. "
           "Send anything about your own accounts, such as account numbers or identity codes, "
           "through the netbank's secure messages."),
}
BANK_NAME = {"fi": "Pankki", "sv": "Banken", "en": "The Bank"}
LETTER_REFERENCE = {"fi": "Viite", "sv": "Referens", "en": "Reference"}


def pick(texts, language):
    return texts.get(str(language), texts["en"])
