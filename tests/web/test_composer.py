"""The composer's htmx endpoints and the « Messages enregistrés » page."""

import re

import pytest

from shopsms.extensions import db
from shopsms.models import Client, CreditEntry, Template
from shopsms.sms.placeholders import PLACEHOLDERS
from shopsms.web.composer import PLACEHOLDER_HELP
from tests.conftest import csrf_token

HX = {"HX-Request": "true"}


@pytest.fixture
def staff(client_as):
    client = client_as("staff")
    token = csrf_token(client.get("/messages"))

    def post(url, **data):
        return client.post(url, data=data, headers={**HX, "X-CSRFToken": token})

    client.post_hx = post
    return client


def shown(html, name):
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no {name} in the answer"
    return " ".join(match.group(1).split())


def test_the_page_shows_the_composer_and_the_saved_messages(staff, app, store):
    with app.app_context():
        db.session.add(Template(name="Soirée privée", body="Soirée jeudi", store_id=store.id))
        db.session.commit()
    page = staff.get("/messages").text
    assert "<h1>Messages enregistrés</h1>" in page
    assert 'name="body"' in page and 'hx-trigger="input changed delay:300ms"' in page
    assert "Soirée privée" in page
    assert 'data-hotkey="F2"' in page  # F2 saves
    for placeholder in PLACEHOLDERS:
        assert f'data-insert="{placeholder.tag.replace("<", "&lt;").replace(">", "&gt;")}"' in page


def test_preview_answers_the_partial_only(staff):
    answer = staff.post_hx("/composer/apercu", body="Bonjour")
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div class="composer-preview" id="composer-preview"')
    assert "<textarea" not in answer.text  # the text box is never swapped while typing


def test_161_gsm_characters_are_two_sms_over_the_limit_of_one(staff):
    answer = staff.post_hx("/composer/apercu", body="a" * 161).text
    assert shown(answer, "chars") == "161 / 160"
    assert shown(answer, "encoding") == "GSM"
    assert shown(answer, "parts") == "2 SMS"
    assert 'data-over-limit="true"' in answer
    assert "Message trop long de 1 caractère : 160 caractères au plus (1 SMS)." in answer
    fits = staff.post_hx("/composer/apercu", body="a" * 160).text
    assert 'data-over-limit="false"' in fits and shown(fits, "parts") == "1 SMS"


def test_with_stop_149_characters_are_left(staff):
    answer = staff.post_hx("/composer/apercu", body="a" * 150, add_stop="1").text
    assert shown(answer, "chars") == "161 / 160"
    assert "il reste 149 caractères pour votre texte" in answer
    assert (
        "Message trop long de 1 caractère : 149 caractères au plus avec la mention STOP" in answer
    )
    assert "STOP 36608</div>" in answer  # shown in the final text


def test_marketing_forces_the_stop_mention(staff):
    answer = staff.post_hx("/composer/apercu", body="Soldes", kind="marketing").text
    assert "Soldes\nSTOP 36608" in answer


def test_a_special_character_switches_to_unicode_and_is_highlighted(staff):
    answer = staff.post_hx("/composer/apercu", body="Fête des mères").text
    assert shown(answer, "encoding") == "Unicode"
    assert "<mark>ê</mark>" in answer
    assert "Remplacer les caractères spéciaux" in answer
    assert "(1 SMS → 1 SMS)" in answer


def test_replace_shows_the_parts_before_and_after_and_returns_the_new_text(staff):
    body = "Très chère cliente, " + "ê" * 60
    preview = staff.post_hx("/composer/apercu", body=body).text
    assert "(2 SMS → 1 SMS)" in preview
    answer = staff.post_hx("/composer/remplacer", body=body, composer_saved="inline").text
    assert "Caractères spéciaux remplacés : 2 SMS → 1 SMS." in answer
    assert ">\nTrès chère cliente, " + "e" * 60 + "</textarea>" in answer
    assert shown(answer, "encoding") == "GSM"
    assert 'class="composer composer--inline"' in answer  # the including screen's layout kept


def test_unknown_expressions_are_flagged_in_french(staff):
    answer = staff.post_hx("/composer/apercu", body="Bonjour <PRENOMS>").text
    assert "Expression inconnue, elle partira telle quelle : &lt;PRENOMS&gt;." in answer


def test_without_recipients_the_example_client_is_said(staff):
    answer = staff.post_hx("/composer/apercu", body="Bonjour <NOM>").text
    assert "Aperçu pour un client exemple (Monsieur JEAN DUPONT)" in answer
    assert "Bonjour M. JEAN DUPONT" in answer
    assert shown(answer, "credits-needed") == "1 crédit"


def test_with_recipients_the_cost_is_exact(staff, app, store):
    with app.app_context():
        ids = []
        for i, last in enumerate(("DUPONT", "DE LA FONTAINE-BEAUMARCHAIS", "MARTIN")):
            client = Client(
                number=f"C{i}",
                civility="Madame",
                first_name="ANNE",
                last_name=last,
                store_id=store.id,
            )
            db.session.add(client)
            db.session.flush()
            ids.append(str(client.id))
        db.session.add(CreditEntry(kind="topup", amount=1000))
        db.session.commit()
    # 120 + " " + "Mme ANNE DE LA FONTAINE-BEAUMARCHAIS" (36) + STOP (11) = 168: too long.
    client = staff
    answer = client.post(
        "/composer/apercu",
        data={"body": "x" * 120 + " <NOM>", "add_stop": "1", "client_id": ids},
        headers={**HX, "X-CSRFToken": csrf_token(client.get("/messages"))},
    ).text
    assert shown(answer, "recipients") == "3"
    assert shown(answer, "credits-needed") == "4"
    assert shown(answer, "credits-available") == "1 000"
    assert shown(answer, "credits-left") == "996"
    assert "1 destinataire a un texte trop long : 8 caractères de trop pour 1 SMS." in answer
    assert "Aperçu du texte le plus long" in answer
    assert 'data-over-limit="true"' in answer


def test_missing_credits_are_said(staff, app, store):
    with app.app_context():
        client = Client(number="C1", last_name="DUPONT", store_id=store.id)
        db.session.add(client)
        db.session.commit()
        client_id = client.id
    answer = staff.post_hx("/composer/apercu", body="Bonjour", client_id=str(client_id)).text
    assert "Crédits insuffisants : il manque 1 crédit." in answer
    assert 'data-credits-short="true"' in answer


def test_save_open_and_delete(staff, app):
    saved = staff.post_hx("/composer/messages", body="Bonjour <NOM>", save_name="Bonjour").text
    assert "Message « Bonjour » enregistré." in saved
    assert 'data-load-body="Bonjour &lt;NOM&gt;"' in saved
    with app.app_context():
        template = db.session.scalar(db.select(Template))
        assert (template.name, template.body) == ("Bonjour", "Bonjour <NOM>")
        template_id = template.id
    opened = staff.get(f"/messages?message={template_id}").text
    assert ">\nBonjour &lt;NOM&gt;</textarea>" in opened
    gone = staff.post_hx(f"/composer/messages/{template_id}/supprimer").text
    assert "Message « Bonjour » supprimé." in gone
    assert "Aucun message enregistré pour l'instant." in gone


def test_save_errors_are_french_and_a_taken_name_can_be_replaced(staff, app):
    assert "Donnez un nom au message" in staff.post_hx("/composer/messages", body="Bonjour").text
    assert "Le message est vide" in staff.post_hx("/composer/messages", save_name="Vide").text
    staff.post_hx("/composer/messages", body="Version 1", save_name="Promo")
    taken = staff.post_hx("/composer/messages", body="Version 2", save_name="promo").text
    assert "Un message « Promo » existe déjà : le remplacer ?" in taken
    assert "Remplacer « Promo »" in taken
    replaced = staff.post_hx("/composer/messages", body="Version 2", save_name="promo", replace="1")
    assert "enregistré" in replaced.text
    with app.app_context():
        assert db.session.scalars(db.select(Template.body)).all() == ["Version 2"]


def test_staff_cannot_delete_or_create_a_shared_message(staff, app):
    with app.app_context():
        shared = Template(name="Anniversaire", body="Joyeux anniversaire")
        db.session.add(shared)
        db.session.commit()
        shared_id = shared.id
    page = staff.get("/messages").text
    assert "Anniversaire" in page and f"/composer/messages/{shared_id}/supprimer" not in page
    assert 'name="save_shared"' not in page
    assert staff.post_hx(f"/composer/messages/{shared_id}/supprimer").status_code == 403
    assert (
        staff.post_hx("/composer/messages", body="x", save_name="y", save_shared="1").status_code
        == 403
    )
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Template.id))) == 1


def test_head_office_shares_and_deletes_shared_messages(client_as, app):
    client = client_as("admin")
    page = client.get("/messages")
    assert 'name="save_shared"' in page.text  # checked and fixed: head office has no store
    token = csrf_token(page)
    client.post(
        "/composer/messages",
        data={"body": "Texte", "save_name": "Chaîne", "save_shared": "1"},
        headers={**HX, "X-CSRFToken": token},
    )
    with app.app_context():
        template = db.session.scalar(db.select(Template))
        assert template.store_id is None
    answer = client.post(
        f"/composer/messages/{template.id}/supprimer", headers={**HX, "X-CSRFToken": token}
    )
    assert "Message « Chaîne » supprimé." in answer.text


@pytest.mark.parametrize(
    "url",
    [
        "/composer/apercu",
        "/composer/remplacer",
        "/composer/messages",
        "/composer/messages/1/supprimer",
    ],
)
def test_posts_need_the_csrf_token(staff, url):
    answer = staff.post(url, data={"body": "Bonjour", "save_name": "x"}, headers=HX)
    assert answer.status_code == 400
    assert answer.headers.get("HX-Refresh") == "true"


def test_the_page_needs_a_login(client):
    assert client.get("/messages").status_code == 302


def test_expression_help_is_the_sms_core_word_for_word():
    assert {p.tag: p.description for p in PLACEHOLDERS} == {
        tag: str(text) for tag, text in PLACEHOLDER_HELP.items()
    }
