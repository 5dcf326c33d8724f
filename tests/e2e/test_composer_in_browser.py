"""Staff write a message at the tablet: the counter follows, special characters are fixed
in one click, and the message is saved and opened again."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, live_server, username="vendeur"):
    page.goto(live_server + "/connexion?next=/messages")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/messages")


def test_write_fix_save_and_open_a_message(live_server, page, users):
    log_in(page, live_server)
    text = page.get_by_label("Message", exact=True)
    encoding, parts = page.get_by_test_id("encoding"), page.get_by_test_id("parts")

    text.click()
    page.keyboard.type("Bonjour ")
    page.get_by_role("button", name="<NOM>", exact=True).click()  # inserted at the cursor
    page.keyboard.type(", votre bague est ", delay=15)
    expect(page.get_by_test_id("final-text")).to_have_text(
        "Bonjour M. JEAN DUPONT, votre bague est"
    )
    expect(encoding).to_have_text("GSM")
    expect(parts).to_have_text("1 SMS")

    # Typed while the counter refreshes: nothing typed is lost, the cursor stays at the end.
    page.keyboard.type("prête : passez la chercher en magasin du mardi au samedi.", delay=15)
    typed = (
        "Bonjour <NOM>, votre bague est prête : passez la chercher en magasin du mardi au samedi."
    )
    expect(text).to_have_value(typed)
    expect(encoding).to_have_text("Unicode")
    expect(parts).to_have_text("2 SMS")
    expect(page.locator(".composer-unicode mark")).to_have_text("ê")

    page.get_by_role("button", name="Remplacer les caractères spéciaux").click()
    expect(encoding).to_have_text("GSM")
    expect(parts).to_have_text("1 SMS")
    expect(page.get_by_text("Caractères spéciaux remplacés : 2 SMS → 1 SMS.")).to_be_visible()
    fixed = typed.replace("ê", "e")
    expect(text).to_have_value(fixed)
    expect(text).to_be_focused()  # typing goes on

    page.get_by_label("Nom du message").fill("Bague prête")
    page.keyboard.press("F2")
    expect(page.get_by_text("Message « Bague prête » enregistré.")).to_be_visible()

    page.reload()
    expect(text).to_have_value("")
    page.get_by_role("button", name=re.compile("^Bague prête")).click()
    expect(text).to_have_value(fixed)
    expect(page.get_by_label("Nom du message")).to_have_value("Bague prête")
    expect(parts).to_have_text("1 SMS")
    expect(page.get_by_test_id("final-text")).to_contain_text("Bonjour M. JEAN DUPONT, votre bague")


def test_phone_width_stop_and_the_expressions_list(live_server, page, users):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server)
    page.get_by_label("Message", exact=True).fill("Soldes d'été")
    page.get_by_label("Insérer le STOP SMS").check()
    expect(page.get_by_test_id("final-text")).to_have_text("Soldes d'été\nSTOP 36608")

    page.get_by_role("button", name="Liste des expressions génériques").click()
    dialog = page.get_by_role("dialog", name="Expressions génériques")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Nom de famille, majuscule initiale")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_sending_screen_includes_the_composer_in_its_form(live_server, page, users, app, store):
    """What a campaign screen will do: one include, recipients known, its send button
    disabled while the message is empty or too long."""
    from flask import render_template_string

    from shopsms.extensions import db
    from shopsms.models import Client, CreditEntry, Template
    from shopsms.web import composer

    with app.app_context():
        clients = [
            Client(
                number="C1",
                civility="Madame",
                first_name="ANNE",
                last_name="LEE",
                store_id=store.id,
            ),
            Client(
                number="C2",
                civility="Monsieur",
                first_name="JEAN-BAPTISTE",
                last_name="DE LA FONTAINE",
                store_id=store.id,
            ),
        ]
        db.session.add_all(clients)
        db.session.add(Template(name="Soldes", body="Soldes d'hiver : -30 % sur les montres !"))
        db.session.add(CreditEntry(kind="topup", amount=50))
        db.session.commit()
        ids = [c.id for c in clients]

    @app.route("/essai-campagne")
    def campaign_screen():
        return render_template_string(
            '{% extends "base.html" %}{% block content %}<form method="post">'
            '{% include "composer/_composer.html" %}'
            "<button data-composer-send>Envoyer</button></form>{% endblock %}",
            composer=composer.context(kind="marketing", client_ids=ids),
        )

    log_in(page, live_server)
    page.goto(live_server + "/essai-campagne")
    send = page.get_by_role("button", name="Envoyer", exact=True)
    expect(send).to_be_disabled()  # nothing written yet
    expect(page.get_by_label("Insérer le STOP SMS")).to_be_checked()
    expect(page.get_by_label("Insérer le STOP SMS")).to_be_disabled()  # the law

    page.get_by_role("button", name="Ouvrir un message enregistré").click()
    dialog = page.get_by_role("dialog", name="Messages enregistrés")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=re.compile("^Soldes")).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("recipients")).to_have_text("2")
    expect(page.get_by_test_id("credits-needed")).to_have_text("2")
    expect(page.get_by_test_id("credits-left")).to_have_text("48")
    expect(send).to_be_enabled()

    text = page.get_by_label("Message", exact=True)
    text.press("End")
    page.keyboard.type(" <NOM>" + " Offre valable en magasin jusqu'au 31 janvier." * 2)
    expect(page.get_by_text("1 destinataire a un texte trop long")).to_be_visible()
    expect(send).to_be_disabled()
    page.get_by_role("button", name="Sauvegarder le message en cours").click()
    expect(page.get_by_label("Nom du message")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
