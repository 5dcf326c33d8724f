"""Generic expressions as the client reads them."""

from decimal import Decimal

import pytest

from shopsms.sms.placeholders import PLACEHOLDERS, format_amount, render, unknown

JEAN = {
    "civility": "Monsieur",
    "first_name": "JEAN",
    "last_name": "DUPONT",
    "store": "Bijouterie Showroom",
    "number": "12345",
    "amount": Decimal("30"),
}


def test_the_seed_example():
    assert render("Bonjour <NOM>", JEAN) == "Bonjour M. JEAN DUPONT"


def test_the_set_in_order_with_its_help():
    assert [p.tag for p in PLACEHOLDERS] == [
        "<GEN>",
        "<CIV>",
        "<NOM>",
        "<NOMPROPRE>",
        "<PRENOM>",
        "<MAGASIN>",
        "<NUM>",
        "<MONTANT>",
    ]
    assert all(p.description and p.example for p in PLACEHOLDERS)


def test_each_help_example_is_what_jean_dupont_gets():
    for placeholder in PLACEHOLDERS:
        assert render(placeholder.tag, JEAN) == placeholder.example


@pytest.mark.parametrize(
    ("civility", "gen", "civ"),
    [
        ("Monsieur", "Monsieur", "M."),
        ("Madame", "Madame", "Mme"),
        ("Mademoiselle", "Mademoiselle", "Mlle"),
        ("MADAME", "Madame", "Mme"),
        ("Mme", "Madame", "Mme"),
        ("M.", "Monsieur", "M."),
        ("Melle", "Mademoiselle", "Mlle"),
    ],
)
def test_civility_full_and_short(civility, gen, civ):
    context = {**JEAN, "civility": civility}
    assert render("<GEN>|<CIV>", context) == f"{gen}|{civ}"


def test_unknown_civility_is_used_as_stored():
    assert render("<GEN>|<CIV>", {"civility": "Docteur"}) == "Docteur|Docteur"


def test_nom_is_the_card_as_typed():
    context = {"civility": "Madame", "first_name": "Marie-Claire", "last_name": "de la Tour"}
    assert render("<NOM>", context) == "Mme Marie-Claire de la Tour"


@pytest.mark.parametrize(
    ("last_name", "proper"),
    [
        ("DUPONT", "Dupont"),
        ("DE LA FONTAINE", "De La Fontaine"),
        ("LE-GOFF", "Le-Goff"),
        ("D'ARTAGNAN", "D'Artagnan"),
        ("ÉTIENNE", "Étienne"),
        ("  martin ", "Martin"),
    ],
)
def test_nompropre(last_name, proper):
    assert render("<NOMPROPRE>", {"last_name": last_name}) == proper


def test_prenom_in_proper_case():
    assert render("<PRENOM>", {"first_name": "JEAN-PIERRE"}) == "Jean-Pierre"
    assert render("<PRENOM>", {"first_name": "hélène"}) == "Hélène"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("30"), "30,00 €"),
        (Decimal("30.5"), "30,50 €"),
        (Decimal("1234.5"), "1 234,50 €"),
        (Decimal("1234567.891"), "1 234 567,89 €"),
        (Decimal("0.005"), "0,01 €"),  # commercial rounding, not banker's
        (Decimal("-12"), "-12,00 €"),
        (12, "12,00 €"),
        ("9.9", "9,90 €"),
    ],
)
def test_montant_in_french_format(amount, shown):
    assert format_amount(amount) == shown
    assert render("Reste dû : <MONTANT>.", {"amount": amount}) == f"Reste dû : {shown}."


def test_repair_message_from_the_seed():
    template = (
        "Bonjour <GEN>, votre réparation <NUM> est disponible en magasin. "
        "Reste à régler : <MONTANT>. <MAGASIN>"
    )
    assert render(template, JEAN) == (
        "Bonjour Monsieur, votre réparation 12345 est disponible en magasin. "
        "Reste à régler : 30,00 €. Bijouterie Showroom"
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Bonjour <GEN> <PRENOM> <NOMPROPRE>, merci", "Bonjour, merci"),
        ("Bonjour <GEN> <NOMPROPRE>, merci", "Bonjour, merci"),
        ("Bonjour <PRENOM> !", "Bonjour !"),
        ("Bonjour <PRENOM>!", "Bonjour!"),
        ("Votre montre <NUM> est prête.", "Votre montre est prête."),
        ("<GEN> <PRENOM> votre montre est prête", "votre montre est prête"),
        ("Merci\n<MAGASIN>", "Merci\n"),
        ("Merci <PRENOM>\n<MAGASIN> vous attend", "Merci\nvous attend"),
        ("Montant : <MONTANT>", "Montant :"),
        ("Montant:<MONTANT>.", "Montant:."),
    ],
)
def test_missing_values_leave_no_stray_space(template, expected):
    assert render(template, {}) == expected


def test_empty_and_none_values_count_as_missing():
    context = {"civility": "", "first_name": None, "last_name": "  ", "amount": None}
    assert render("Bonjour <CIV> <PRENOM> <NOMPROPRE>, <MONTANT> dus", context) == ("Bonjour, dus")


def test_nom_with_a_missing_civility():
    assert render("Bonjour <NOM>", {"first_name": "JEAN", "last_name": "DUPONT"}) == (
        "Bonjour JEAN DUPONT"
    )


def test_spaces_typed_by_the_user_elsewhere_are_kept():
    assert render("Soldes  -20%  <MAGASIN>", JEAN) == "Soldes  -20%  Bijouterie Showroom"


def test_unknown_tags_are_left_as_typed():
    assert render("Bonjour <NOM> <FOO>", JEAN) == "Bonjour M. JEAN DUPONT <FOO>"


def test_unknown_lists_mistakes_in_order_without_repeats():
    template = "Bonjour <NON> <PRÉNOM> <Nom> <NOM> <NON> <prenom> <NUM>"
    assert unknown(template) == ["<NON>", "<PRÉNOM>", "<Nom>", "<prenom>"]


@pytest.mark.parametrize(
    "template", ["a < b > c", "Je <3 les montres", "prix <100 €>", "<b>gras</b>", "<>"]
)
def test_unknown_ignores_what_is_not_a_tag(template):
    assert unknown(template) == []
    assert render(template, JEAN) == template


def test_known_tags_are_not_unknown():
    assert unknown(" ".join(p.tag for p in PLACEHOLDERS)) == []
