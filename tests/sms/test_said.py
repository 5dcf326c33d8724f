"""Sentences kept as their French words are read back with their values (issue 20)."""

from shopsms.sms.said import N_, Said, read

SENTENCES = (
    "Partie %(seq)s/%(total)s : %(error)s",
    "Refusé par l'opérateur : %(what)s (%(name)s).",
    "numéro de destination invalide",
    "Téléphone injoignable pendant la durée de validité (%(detail)s)",
    "Téléphone injoignable pendant la durée de validité (plage de test)",
)


def test_a_stored_text_is_read_as_its_sentence_with_its_values_nested_too():
    written = N_(
        SENTENCES[0],
        seq=2,
        total=3,
        error=N_(SENTENCES[1], what=N_(SENTENCES[2]), name="ESME_RINVDSTADR"),
    )
    found = read(str(written), SENTENCES)
    assert isinstance(found, Said) and found.msgid == SENTENCES[0]
    assert found.variables["seq"] == "2" and found.variables["total"] == "3"
    inner = found.variables["error"]
    assert isinstance(inner, Said) and inner.msgid == SENTENCES[1]
    assert inner.variables["what"].msgid == SENTENCES[2]
    assert inner.variables["name"] == "ESME_RINVDSTADR"
    assert found == written  # the same French words


def test_the_most_literal_sentence_wins_and_other_words_stay_as_they_are():
    exact = read("Téléphone injoignable pendant la durée de validité (plage de test)", SENTENCES)
    assert exact.msgid == SENTENCES[4]
    detailed = read("Téléphone injoignable pendant la durée de validité (EXPIRED)", SENTENCES)
    assert detailed.msgid == SENTENCES[3] and detailed.variables == {"detail": "EXPIRED"}
    for words in ("Abonné absent", "Partie 1/2 : ", "", "Refusé par l'opérateur : coupé"):
        assert read(words, SENTENCES) == words and not isinstance(read(words, SENTENCES), Said)
