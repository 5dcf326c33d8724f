"""Which number an SMS goes to, and what the client card shows when there is none."""

import pytest

from shopsms.sms.phones import classify, display, no_sms_reason, sms_number


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        " 06 12 34 56 78 ",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "0033612345678",
    ],
)
def test_french_mobile_formats(raw):
    assert sms_number(raw, None) == "+33612345678"
    assert classify(raw).kind == "mobile"


def test_07_mobiles():
    assert sms_number("07 81 23 45 67", "") == "+33781234567"


@pytest.mark.parametrize(
    ("raw", "e164", "region"),
    [
        ("0690 12 34 56", "+590690123456", "GP"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456", "MQ"),  # Martinique
        ("0694 12 34 56", "+594694123456", "GF"),  # Guyane
        ("0692 12 34 56", "+262692123456", "RE"),  # La Réunion
        ("0693 12 34 56", "+262693123456", "RE"),
        ("0639 01 23 45", "+262639012345", "YT"),  # Mayotte
        ("+590 690 12 34 56", "+590690123456", "GP"),
        ("00262 692 12 34 56", "+262692123456", "RE"),
        ("+33 690 12 34 56", "+590690123456", "GP"),  # metropolitan prefix by mistake
    ],
)
def test_overseas_departments_written_the_domestic_way(raw, e164, region):
    phone = classify(raw)
    assert (phone.kind, phone.e164, phone.region) == ("mobile", e164, region)
    assert sms_number(raw, None) == e164


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+32 470 12 34 56", "+32470123456"),  # Belgium
        ("+44 7400 123456", "+447400123456"),  # United Kingdom
        ("0044 7400 123456", "+447400123456"),
        ("+41 79 123 45 67", "+41791234567"),  # Switzerland
        ("+1 201 555 0123", "+12015550123"),  # USA: fixed line or mobile, counts as mobile
    ],
)
def test_foreign_mobiles_in_international_form(raw, e164):
    assert sms_number(raw, None) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "01 23 45 67 89",
        "02 98 12 34 56",
        "03 20 12 34 56",
        "04 76 84 25 70",
        "05 56 12 34 56",
        "09 12 34 56 78",
        "0590 12 34 56",
        "+32 2 512 34 56",
        "0800 12 34 56",
    ],
)
def test_landlines_and_other_numbers_are_not_mobiles(raw):
    assert classify(raw).kind == "landline"
    assert sms_number(raw, None) is None


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty(raw):
    phone = classify(raw)
    assert (phone.kind, phone.e164) == ("empty", None)


@pytest.mark.parametrize(
    "raw", ["abc", "06 12 34 56", "06 12 34 56 78 9", "123", "+33 6 12", "00 00 00 00 00"]
)
def test_garbage_is_invalid(raw):
    phone = classify(raw)
    assert (phone.kind, phone.e164) == ("invalid", None)
    assert sms_number(raw, raw) is None


@pytest.mark.parametrize("raw", ["049638949", "04 96 38 94 9", "069030554", "0690 30 55 4"])
def test_a_french_number_missing_a_digit_is_invalid_not_foreign(raw):
    # Read once as +49 (Germany) and +690 (Tokelau): "0" + "0…" taken for the 00 prefix.
    phone = classify(raw)
    assert (phone.kind, phone.e164) == ("invalid", None)


def test_tel1_wins_when_both_are_mobiles():
    assert sms_number("06 12 34 56 78", "07 81 23 45 67") == "+33612345678"


def test_tel2_when_tel1_is_not_a_mobile():
    assert sms_number("01 23 45 67 89", "07 81 23 45 67") == "+33781234567"
    assert sms_number("", "07 81 23 45 67") == "+33781234567"
    assert sms_number("n'a pas de portable", "07 81 23 45 67") == "+33781234567"


def test_no_mobile_at_all():
    assert sms_number("01 23 45 67 89", "04 76 84 25 70") is None
    assert sms_number(None, None) is None


def test_another_default_region():
    # A Belgian store types Belgian numbers the domestic way.
    assert sms_number("0470 12 34 56", None, region="BE") == "+32470123456"
    assert sms_number("0470 12 34 56", None) is None


# --- display ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("+33612345678", "06 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("0033 1 23 45 67 89", "01 23 45 67 89"),
        ("0690 12 34 56", "+590 690 12 34 56"),
        ("+32470123456", "+32 470 12 34 56"),
        ("+447400123456", "+44 7400 123456"),
    ],
)
def test_display(raw, shown):
    assert display(raw) == shown


def test_display_gives_unparseable_input_back():
    assert display("voir fiche") == "voir fiche"
    assert display("06 12 34") == "06 12 34"
    assert display(None) == ""


# --- why no SMS ---------------------------------------------------------------------


def test_no_reason_when_there_is_a_mobile():
    assert no_sms_reason("01 23 45 67 89", "06 12 34 56 78") is None


def test_reason_no_number():
    assert no_sms_reason(None, "") == "Aucun numéro de téléphone"


def test_reason_landline_shows_the_number_nicely():
    assert no_sms_reason("0123456789", None) == "Numéro fixe, pas un portable : 01 23 45 67 89"
    assert no_sms_reason("", "04.76.84.25.70") == "Numéro fixe, pas un portable : 04 76 84 25 70"


def test_reason_invalid_shows_what_was_typed():
    assert no_sms_reason("06 12 34 56", None) == "Numéro invalide : 06 12 34 56"


def test_reason_prefers_the_invalid_number_which_may_be_a_mistyped_mobile():
    assert no_sms_reason("01 23 45 67 89", "06 12 34 5") == "Numéro invalide : 06 12 34 5"
    assert no_sms_reason("06 12 34 5", "01 23 45 67 89") == "Numéro invalide : 06 12 34 5"


@pytest.mark.parametrize("typed", ["O6 12 34 56 78", "06 12 34 56 7O", "06 FLEURS 12"])
def test_a_letter_in_a_number_is_a_typo_never_a_guess(typed):
    assert classify(typed).kind == "invalid"
    assert sms_number(typed, "") is None
    assert no_sms_reason(typed, "") == f"Numéro invalide : {typed}"
