"""The sender id shown on the client's phone (settings page)."""

import pytest

from shopsms.sms.sender import SENDER_ID_RULES, validate_sender_id

PHONE_REFUSED = (
    "Un numéro de téléphone n'est pas accepté par les opérateurs : utilisez le nom du magasin."
)


@pytest.mark.parametrize("value", ["ABC", "Showroom", "BIJOU_SHOW", "Bijoux2024", "A1234567890"])
def test_valid_sender_ids(value):
    assert validate_sender_id(value) == []


def test_too_long_says_the_current_length():
    assert validate_sender_id("BijouterieShow") == [
        "L'intitulé doit faire entre 3 et 11 caractères (actuellement 14)."
    ]


def test_too_short():
    assert validate_sender_id("AB") == [
        "L'intitulé doit faire entre 3 et 11 caractères (actuellement 2)."
    ]


def test_eleven_is_the_maximum():
    assert validate_sender_id("A" * 11) == []
    assert validate_sender_id("A" * 12) != []


def test_spaces_are_to_be_replaced_by_underscores():
    assert validate_sender_id("BIJOU SHOW") == ["Pas d'espace : remplacez-les par « _ »."]


def test_several_problems_are_all_reported():
    assert validate_sender_id("Bijouterie du Centre") == [
        "L'intitulé doit faire entre 3 et 11 caractères (actuellement 20).",
        "Pas d'espace : remplacez-les par « _ ».",
    ]


def test_accents_and_signs_are_named():
    assert validate_sender_id("Bijou-Éclat") == [
        "Caractères non acceptés : - É. Utilisez seulement des lettres sans accent, "
        "des chiffres et « _ »."
    ]


def test_at_least_one_letter():
    assert validate_sender_id("12345") == ["L'intitulé doit contenir au moins une lettre."]
    assert validate_sender_id("___") == ["L'intitulé doit contenir au moins une lettre."]


@pytest.mark.parametrize(
    "value", ["0612345678", "06 12 34 56 78", "+33612345678", "06.12.34.56.78", "0476842570"]
)
def test_phone_numbers_are_refused_with_the_reason(value):
    # Length, spaces and "no letter" would be true too but would not help.
    assert validate_sender_id(value) == [PHONE_REFUSED]


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required(value):
    assert validate_sender_id(value) == ["L'intitulé de l'expéditeur est obligatoire."]


def test_rules_text_for_the_settings_page():
    for words in ("11 caractères", "« _ »", "numéro de téléphone", "nom du magasin"):
        assert words in SENDER_ID_RULES
