from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from shopsms.config import PROJECT_ROOT
from tests.conftest import csrf_token

KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,  # the pure core's sentences (shopsms.sms.said)
}


def _source_messages():
    """Every translatable string in the code and templates, as pybabel extracts it."""
    method_map = [("shopsms/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(PROJECT_ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_english_catalogue_is_complete():
    path = Path(PROJECT_ROOT, "shopsms/translations/en/LC_MESSAGES/messages.po")
    with path.open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id
        and m.string
        and (all(m.string) if isinstance(m.string, tuple) else True)
        and not m.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, "Run `make catalog` and translate: " + "; ".join(missing)


def test_a_person_can_switch_to_english_and_back(client_as):
    client = client_as("staff")
    home = client.get("/")
    assert "Crédits SMS restants" in home.text
    token = csrf_token(home)
    client.post("/langue/en", data={"csrf_token": token}, headers={"Referer": "/"})
    english = client.get("/")
    assert "SMS credits left" in english.text and '<html lang="en"' in english.text
    client.post("/langue/fr", data={"csrf_token": token})
    assert "Crédits SMS restants" in client.get("/").text


def test_counts_take_the_french_singular_for_0_and_1_and_the_english_rule_in_english(app):
    from flask import render_template_string

    from shopsms.plurals import ngettext

    template = '{{ ngettext("%(num)d fiche SAV", "%(num)d fiches SAV", n) }}'
    with app.test_request_context():
        said = [render_template_string(template, n=n) for n in (0, 1, 2, 12500)]
        assert said == ["0 fiche SAV", "1 fiche SAV", "2 fiches SAV", "12500 fiches SAV"]
        message = "Le message dépasse %(parts)d SMS de %(num)d caractère : raccourcissez-le."
        plural = message.replace("caractère", "caractères")
        assert ngettext(message, plural, 1, parts=1).endswith("de 1 caractère : raccourcissez-le.")
        assert ngettext(message, plural, 2, parts=1).endswith("de 2 caractères : raccourcissez-le.")
    with app.test_request_context(headers={"Cookie": ""}):
        from flask import session

        session["locale"] = "en"
        said = [render_template_string(template, n=n) for n in (0, 1, 2)]
        assert said == ["0 repair tickets", "1 repair ticket", "2 repair tickets"]


def test_a_low_balance_of_one_credit_is_said_in_the_singular(app, client_as):
    from shopsms.services import credits

    with app.app_context():
        credits.top_up(1, reference="tests")
    page = client_as("staff").get("/").text
    assert "il reste 1 crédit (seuil d'alerte : 500)." in page


def test_a_count_outside_a_request_is_said_in_french(app):
    from shopsms.services.credits import NotEnoughCredits

    with app.app_context():  # a job or the CLI: no person, no chosen language
        assert str(NotEnoughCredits(1, 0)).startswith(
            "Crédits insuffisants : cet envoi coûte 1 crédit "
        )
    assert "coûte 2 crédits et il en reste 0" in str(NotEnoughCredits(2, 0))


def test_service_refusals_are_said_in_the_persons_language(app):
    from datetime import datetime

    from flask import session

    from shopsms.services.campaigns import OutsideSendingHours

    refused = OutsideSendingHours(datetime(2026, 3, 16, 9, 0))
    with app.test_request_context():
        assert str(refused).endswith("Prochain créneau : 16/03/2026 à 09:00.")
    with app.test_request_context():
        session["locale"] = "en"
        assert str(refused).endswith("Next slot: 16/03/2026 at 09:00.")


def test_the_marketing_pressure_reason_writes_its_day_as_the_persons_language_does(app):
    from flask import session

    from shopsms.services.pressure import pressure_text

    with app.test_request_context():
        assert pressure_text("pressure:2:20260303") == (
            "pression marketing : déjà 2 SMS depuis le 3 mars"
        )
        assert pressure_text("pressure:3:20260801", capital=True) == (
            "Pression marketing : déjà 3 SMS depuis le 1er août"
        )
        assert pressure_text("pressure") == "pression marketing"
    with app.test_request_context():
        session["locale"] = "en"
        assert pressure_text("pressure:2:20260303", capital=True) == (
            "Marketing pressure: already 2 SMS since March 3"
        )
        assert pressure_text("pressure:3:20260801") == (
            "marketing pressure: already 3 SMS since August 1"
        )


def test_the_repair_settings_and_workshop_return_errors_are_said_in_the_persons_language(app):
    from flask import session

    from shopsms.services import repair_notices, repairs

    form = {
        "workshop_return_mode": "proposed",
        "workshop_return_message": "Votre réparation est prête.",
        "repair_reminder_days": "15",
        "repair_reminder_message": "Passez ! " * 40,
    }
    with app.test_request_context():
        session["locale"] = "en"
        _values, errors = repair_notices.clean_settings(form)
        assert str(errors["repair_reminder_message"]).startswith("Reminder message: ")
        assert (
            str(repairs.ReturnErrors({}))
            == "Correct the flagged lines: nothing has been saved yet."
        )
        assert str(repairs.AMOUNT_LABELS["client_price"]) == "Client price"
    with app.test_request_context():
        _values, errors = repair_notices.clean_settings(form)
        assert str(errors["repair_reminder_message"]).startswith("Message de relance : ")
