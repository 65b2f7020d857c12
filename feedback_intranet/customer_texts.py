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

CONFIRMATION_SUBJECT = {
    "fi": "Olemme vastaanottaneet palautteesi {reference}",
    "sv": "Vi har tagit emot din respons {reference}",
    "en": "We received your feedback {reference}",
}
CONFIRMATION = {
    "fi": {
        "thanks": "Kiitos palautteestasi.",
        "reference": "Viitteesi: {reference}",
        "promise": ("Pyrimme vastaamaan sinulle viimeistään {date}. Jos selvitys vie kauemmin, "
                    "kerromme, milloin voit odottaa päätöstä."),
        "no_answer": "Et pyytänyt vastausta. Luemme jokaisen palautteen ja kehitämme palveluitamme "
                     "sen avulla.",
        "quote": "Mainitse viite, jos otat meihin yhteyttä tästä asiasta.",
        "security": ("Älä koskaan lähetä tilinumeroita, henkilötunnusta tai maksujen tietoja "
                     "sähköpostilla. Käytä niihin verkkopankin suojattuja viestejä."),
        "automatic": "Tämä viesti on lähetetty automaattisesti; vastauksia siihen ei lueta.",
        "sender": "Asiakaspalvelu",
    },
    "sv": {
        "thanks": "Tack för din respons.",
        "reference": "Din referens: {reference}",
        "promise": ("Vi strävar efter att svara dig senast {date}. Om utredningen tar längre tid "
                    "meddelar vi när du kan vänta dig ett beslut."),
        "no_answer": "Du bad inte om svar. Vi läser all respons och använder den för att utveckla "
                     "våra tjänster.",
        "quote": "Ange referensen om du kontaktar oss i detta ärende.",
        "security": ("Skicka aldrig kontonummer, personbeteckning eller uppgifter om betalningar "
                     "per e-post. Använd nätbankens krypterade meddelanden för dem."),
        "automatic": "Detta meddelande skickades automatiskt; svar till det läses inte.",
        "sender": "Kundservice",
    },
    "en": {
        "thanks": "Thank you for your feedback.",
        "reference": "Your reference: {reference}",
        "promise": ("We aim to answer you by {date}. If finding out takes longer, we will tell "
                    "you when to expect a decision."),
        "no_answer": "You did not ask for an answer. We read every piece of feedback and use it "
                     "to develop our services.",
        "quote": "Please quote the reference if you contact us about this matter.",
        "security": ("For your security, never send account numbers, personal identity codes or "
                     "payment details by email. Use the encrypted messages in the netbank for "
                     "them."),
        "automatic": "This message was sent automatically; replies to it are not read.",
        "sender": "Customer service",
    },
}
