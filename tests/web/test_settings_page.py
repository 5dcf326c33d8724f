"""« Paramètres »: editing with French messages, store overrides, the SMS module switch,
the gateway's secrets never shown back, the test SMS, and the audit of every change."""

import html
import re

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import AuditEntry, OutboxMessage, Store
from shopsms.services import campaigns, settings


def csrf_token(text):
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text)
    match = match or re.search(r'"X-CSRFToken": "([^"]+)"', text)
    return match.group(1)


GENERAL = {
    "sender_id": "BIJOUX",
    "stop_short_code": "36608",
    "sending_days": ["0", "1", "2", "3", "4"],
    "sending_start": "09:00",
    "sending_end": "19:00",
    "max_parts": "2",
    "low_credit_threshold": "300",
    "topup_email": "compta@bijoux.example",
}


def test_head_office_edits_the_chain_and_every_change_is_audited(app, client_as, store):
    client = client_as("admin")
    page = client.get("/parametres/").text
    response = client.post("/parametres/", data=GENERAL | {"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    page = client.get("/parametres/").text
    assert "Paramètres enregistrés." in page
    assert "lundi, mardi, mercredi, jeudi, vendredi, de 09:00 à 19:00" in page
    with app.app_context():
        assert settings.get("max_parts", store.id) == 2
        assert settings.get("sender_id", store.id) == "BIJOUX"
        changes = {
            e.details["key"]: e.details
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "setting.change")
            )
        }
    assert changes["sender_id"] == {"key": "sender_id", "old": "SHOPSMS", "new": "BIJOUX"}
    assert "stop_short_code" not in changes  # unchanged values are not rewritten


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sender_id", "06 12 34 56 78", "numéro"),
        ("sender_id", "MA BOUTIQUE", "espace"),
        ("stop_short_code", "STOP", "de 4 à 6 chiffres"),
        ("max_parts", "12", "de 1 à 10"),
        ("sending_end", "07:00", "l'heure de fin doit venir après"),
        ("topup_email", "compta", "n'est pas valide"),
    ],
)
def test_bad_values_say_what_to_fix_and_keep_what_was_typed(app, client_as, field, value, message):
    client = client_as("admin")
    token = csrf_token(client.get("/parametres/").text)
    response = client.post("/parametres/", data=GENERAL | {field: value, "csrf_token": token})
    assert response.status_code == 400
    text = response.text.replace("&#39;", "'")
    assert message in text.lower() or message in text
    assert re.search(f'name="{field}"[^>]* value="{re.escape(html.escape(value))}"', text)
    with app.app_context():
        saved = select(AuditEntry).where(AuditEntry.action == "setting.change")
        assert not db.session.scalars(saved).all()  # nothing saved


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_parts", "9" * 5000, "saisissez un nombre entier"),
        ("low_credit_threshold", "\x00douze", "saisissez un nombre entier"),
        ("sending_start", "\u202e9h00", "au format HH:MM"),
        ("stop_short_code", "\u0663\u0666\u0666\u0660\u0668" * 2, "de 4 à 6 chiffres"),
    ],
)
def test_hostile_values_get_a_french_message_on_their_field(app, client_as, field, value, message):
    client = client_as("admin")
    token = csrf_token(client.get("/parametres/").text)
    response = client.post("/parametres/", data=GENERAL | {field: value, "csrf_token": token})
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert re.search(f'name="{field}"[^>]*aria-invalid="true"', text)
    assert message in text


def test_sender_id_checked_live(client_as):
    client = client_as("manager")
    part = client.get(
        "/parametres/expediteur?sender_id=0612345678", headers={"HX-Request": "true"}
    ).text
    assert "<html" not in part and 'data-testid="sender-errors"' in part
    assert (
        'data-testid="sender-ok"' in client.get("/parametres/expediteur?sender_id=BIJOUX_64").text
    )


def test_a_manager_overrides_their_store_only(app, client_as, store):
    client = client_as("manager")
    page = client.get("/parametres/").text
    assert 'name="stop_short_code"' not in page and 'name="topup_email"' not in page
    data = {
        "sender_id": "BIARRITZ",
        "sending_days": ["0", "1", "2", "3", "4", "5"],
        "sending_start": "08:00",
        "sending_end": "20:00",
        "max_parts": "1",
        "stop_short_code": "99999",
        "csrf_token": csrf_token(page),
    }
    assert client.post("/parametres/", data=data).status_code == 302
    with app.app_context():
        assert settings.get("sender_id", store.id) == "BIARRITZ"
        assert settings.get("sender_id") == "SHOPSMS"
        assert settings.get("stop_short_code", store.id) == "36608"  # not theirs to set
        assert not settings.is_set("max_parts", store.id)  # unchanged: follows the chain
    assert client_as("staff").get("/parametres/").status_code == 403


def test_sms_module_switched_off_stops_the_store_sending(app, client_as, store, make_client):
    client_id = make_client()
    admin = client_as("admin")
    page = admin.get("/parametres/magasins").text
    assert "Liaison plate-forme de services" in page
    response = admin.post(
        "/parametres/magasins",
        data={
            "csrf_token": csrf_token(page),
            "platform_link": "1",
            "platform_entity": "YC1110-001",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Store, store.id).sms_enabled is False
        assert settings.get("platform_entity") == "YC1110-001"
        with pytest.raises(campaigns.CampaignError, match="module SMS n'est pas activé"):
            campaigns.draft(
                "single",
                body="Bonjour",
                store_id=store.id,
                recipients=[campaigns.Recipient(client_id=client_id)],
            )
        assert db.session.scalar(
            select(AuditEntry.details).where(AuditEntry.action == "store.sms_enabled")
        ) == {"enabled": False}
    assert client_as("manager").get("/parametres/magasins").status_code == 403


def test_gateway_secrets_are_never_shown_back_and_blank_keeps_them(app, client_as):
    client = client_as("admin")
    page = client.get("/parametres/passerelle").text
    data = {
        "csrf_token": csrf_token(page),
        "gateway": "outbox",
        "kannel_sendsms_url": "http://10.0.0.5:13013/cgi-bin/sendsms",
        "kannel_username": "shop",
        "kannel_password": "tres-secret-kannel",
        "kannel_smsc": "",
        "smpp_host": "",
        "smpp_port": "",
        "smpp_system_id": "",
        "smpp_system_type": "",
        "smpp_password": "",
        "batch_size_outbox": "1000",
        "batch_size_kannel": "80",
        "batch_size_smpp": "100",
        "messages_per_second_outbox": "0",
        "messages_per_second_kannel": "20",
        "messages_per_second_smpp": "50",
    }
    assert client.post("/parametres/passerelle", data=data).status_code == 302
    page = client.get("/parametres/passerelle").text
    assert "tres-secret-kannel" not in page and 'placeholder="inchangé"' in page
    assert (
        client.post("/parametres/passerelle", data=data | {"kannel_password": ""}).status_code
        == 302
    )
    with app.app_context():
        assert settings.get("kannel_password") == "tres-secret-kannel"
        assert settings.get("batch_size")["kannel"] == 80
        from shopsms.gateways import settings_config

        assert settings_config()["KANNEL_PASSWORD"] == "tres-secret-kannel"
        log = str([e.details for e in db.session.scalars(select(AuditEntry))])
    assert "tres-secret-kannel" not in log and "'key': 'kannel_password'" in log
    bad = client.post("/parametres/passerelle", data=data | {"batch_size_kannel": "0"})
    assert bad.status_code == 400 and "SMS par lot (kannel)" in bad.text


def test_test_sms_goes_through_the_gateway_to_the_test_phone(
    app, client_as, credits_available, redis_client
):
    credits_available(10)
    client = client_as("admin")
    token = csrf_token(client.get("/parametres/passerelle").text)
    response = client.post(
        "/parametres/passerelle/test", data={"csrf_token": token, "phone": "06 98 76 54 32"}
    )
    assert response.status_code == 200
    assert "outbox : SMS accepté par la passerelle." in response.text
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.phone)) == "+33698765432"
    assert "Test ShopSMS" in client.get("/telephone-de-test/").text
    bad = client.post("/parametres/passerelle/test", data={"csrf_token": token, "phone": "05 59"})
    assert bad.status_code == 400 and "Numéro de portable non reconnu" in bad.text


def test_tabs_link_other_areas_only_when_they_exist(app, client_as):
    page = client_as("admin").get("/parametres/").text
    tabs = page.split('class="settings-tabs"')[1].split("</nav>")[0]
    assert 'data-tab="general"' in tabs and 'data-tab="passerelle"' in tabs
    assert ('data-tab="sav"' in tabs) == ("repairs.settings" in app.view_functions)
    manager_tabs = client_as("manager").get("/parametres/").text.split('class="settings-tabs"')[1]
    assert 'data-tab="passerelle"' not in manager_tabs.split("</nav>")[0]


def test_head_office_sets_one_stores_own_values(app, client_as, store):
    client = client_as("admin")
    page = client.get(f"/parametres/?magasin={store.id}").text
    assert "Valeurs en vigueur pour le magasin Biarritz." in page
    assert 'name="topup_email"' not in page  # a chain value, not a store's
    data = {
        "sender_id": "BIARRITZ",
        "sending_days": ["0", "1", "2", "3", "4", "5"],
        "sending_start": "08:00",
        "sending_end": "20:00",
        "max_parts": "1",
        "csrf_token": csrf_token(page),
    }
    response = client.post(f"/parametres/?magasin={store.id}", data=data)
    assert response.headers["Location"].endswith(f"/parametres/?magasin={store.id}")
    with app.app_context():
        assert settings.get("sender_id", store.id) == "BIARRITZ"
        assert settings.get("sender_id") == "SHOPSMS"


def test_the_simulation_banner_follows_the_gateway_in_service(app, client_as):
    client = client_as("manager")
    assert "Mode simulation" in client.get("/").text
    with app.app_context():
        settings.put("gateway", "kannel")
    assert "Mode simulation" not in client.get("/").text


def test_a_store_goes_back_to_the_chains_values(app, client_as, store):
    with app.app_context():
        settings.put("sender_id", "BIARRITZ", store_id=store.id)
    client = client_as("manager")
    page = client.get("/parametres/").text
    assert "Valeurs propres au magasin : Intitulé de l'expéditeur" in html.unescape(page)
    client.post("/parametres/valeurs-enseigne", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert settings.get("sender_id", store.id) == "SHOPSMS"
        assert not settings.is_set("sender_id", store.id)
    assert "Valeurs propres au magasin" not in client.get("/parametres/").text
    admin = client_as("admin")
    token = csrf_token(admin.get("/parametres/").text)
    # Head office names the store; the chain itself has no chain to go back to.
    assert admin.post("/parametres/valeurs-enseigne", data={"csrf_token": token}).status_code == 404


def test_the_journal_says_who_changed_what_without_secrets(app, client_as, store):
    admin = client_as("admin")
    token = csrf_token(admin.get("/parametres/").text)
    admin.post("/parametres/", data=GENERAL | {"csrf_token": token})
    with app.app_context():
        settings.put("smpp_password", "mot-de-passe-smpp")
    page = admin.get("/parametres/journal").text
    assert "Claire Siège" in page and "Paramètre modifié" in page
    assert 'Intitulé de l\'expéditeur : "SHOPSMS" → "BIJOUX"' in html.unescape(page)
    assert "modifié (valeur secrète)" in page and "mot-de-passe-smpp" not in page
    manager = client_as("manager").get("/parametres/journal").text
    assert "Paramètre modifié" not in manager  # the chain's changes are head office's


GATEWAY_FORM = {
    "gateway": "outbox",
    "kannel_sendsms_url": "",
    "kannel_username": "",
    "kannel_smsc": "",
    "smpp_host": "",
    "smpp_port": "",
    "smpp_system_id": "",
    "smpp_system_type": "",
    "kannel_password": "",
    "smpp_password": "",
    "batch_size_outbox": "1000",
    "batch_size_kannel": "100",
    "batch_size_smpp": "100",
    "messages_per_second_outbox": "0",
    "messages_per_second_kannel": "50",
    "messages_per_second_smpp": "50",
}


def test_a_typed_password_is_not_dropped_silently(app, client_as):
    client = client_as("admin")
    token = csrf_token(client.get("/parametres/passerelle").text)
    data = GATEWAY_FORM | {
        "csrf_token": token,
        "kannel_password": "nouveau-secret",
        "smpp_port": "99999",
    }
    response = client.post("/parametres/passerelle", data=data)
    assert response.status_code == 400
    assert "Mot de passe non enregistré : saisissez-le de nouveau." in response.text
    assert "nouveau-secret" not in response.text
    assert 'name="smpp_port" value="99999"' in response.text
    with app.app_context():
        assert settings.get("kannel_password") == ""


def test_a_stored_secret_can_be_cleared(app, client_as):
    with app.app_context():
        settings.put("smpp_password", "ancien")
    client = client_as("admin")
    page = client.get("/parametres/passerelle").text
    assert 'name="smpp_password_clear"' in page
    assert 'name="kannel_password_clear"' not in page  # nothing stored to clear
    data = GATEWAY_FORM | {"csrf_token": csrf_token(page), "smpp_password_clear": "1"}
    assert client.post("/parametres/passerelle", data=data).status_code == 302
    with app.app_context():
        assert settings.get("smpp_password") == ""
    assert 'name="smpp_password_clear"' not in client.get("/parametres/passerelle").text


def test_a_too_long_entity_is_refused_with_what_was_typed(app, client_as, store):
    client = client_as("admin")
    page = client.get("/parametres/magasins").text
    entity = "E" * 61
    response = client.post(
        "/parametres/magasins",
        data={
            "csrf_token": csrf_token(page),
            "platform_link": "1",
            "platform_entity": entity,
            "sms_enabled": [str(store.id)],
        },
    )
    assert response.status_code == 400
    assert "60 caractères au plus (61 saisis)" in html.unescape(response.text)
    assert f'value="{entity}"' in response.text
    with app.app_context():
        assert settings.get("platform_entity") == ""
        changes = ("setting.change", "store.sms_enabled", "campaign.queue")
        assert not db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(changes))
        ).all()


def test_platform_link_off_stops_every_sending(app, client_as, store, make_client):
    client_id = make_client()
    client = client_as("admin")
    page = client.get("/parametres/magasins").text
    response = client.post(
        "/parametres/magasins",
        data={
            "csrf_token": csrf_token(page),
            "platform_entity": "",
            "sms_enabled": [str(store.id)],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert settings.get("platform_link") is False
        for store_id in (store.id, None):
            with pytest.raises(
                campaigns.CampaignError, match="liaison plate-forme de services est coupée"
            ):
                campaigns.draft(
                    "single",
                    body="Bonjour",
                    store_id=store_id,
                    recipients=[campaigns.Recipient(client_id=client_id)],
                )


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("manager", "/parametres/passerelle"),
        ("manager", "/parametres/magasins"),
        ("manager", "/parametres/passerelle/test"),
        ("staff", "/parametres/"),
    ],
)
def test_writes_are_refused_to_the_wrong_role(app, client_as, role, path):
    client = client_as(role)
    token = csrf_token(client.get("/").text)
    data = GATEWAY_FORM | {"csrf_token": token, "phone": "06 98 76 54 32", "sender_id": "X"}
    assert client.post(path, data=data).status_code == 403
    with app.app_context():
        changes = ("setting.change", "store.sms_enabled", "campaign.queue")
        assert not db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(changes))
        ).all()


def test_a_failed_test_sms_leaves_nothing_running(app, client_as, credits_available, redis_client):
    from shopsms.models import Campaign, Message
    from shopsms.queue import get_queue
    from shopsms.services import credits

    credits_available(10)
    with app.app_context():
        settings.put("gateway", "kannel")
        # Nothing listens on port 9: Kannel is down.
        settings.put("kannel_sendsms_url", "http://127.0.0.1:9/cgi-bin/sendsms")
    client = client_as("admin")
    token = csrf_token(client.get("/parametres/passerelle").text)
    response = client.post(
        "/parametres/passerelle/test", data={"csrf_token": token, "phone": "06 98 76 54 32"}
    )
    assert response.status_code == 400
    assert "La passerelle n'a pas pris le SMS : Kannel injoignable" in html.unescape(response.text)
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        message = db.session.scalar(select(Message))
        assert campaign.status == "cancelled" and campaign.finished_at is not None
        assert message.state == "failed"
        assert credits.balance() == 10  # the credit came back
        assert get_queue().count == 0


def test_head_office_sets_the_control_group_and_the_marketing_pressure(app, client_as):
    client = client_as("admin")
    page = client.get("/parametres/").text
    assert "Groupe témoin par défaut (en %)" in page
    typed = {
        "control_share": "15",
        "attribution_days": "21",
        "pressure_max": "3",
        "pressure_days": "10",
    }
    response = client.post("/parametres/", data=GENERAL | typed | {"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    with app.app_context():
        assert settings.get_many(list(typed)) == {key: int(v) for key, v in typed.items()}
    page = client.get("/parametres/").text
    bad = {"pressure_max": "-1", "attribution_days": "90", "csrf_token": csrf_token(page)}
    wrong = client.post("/parametres/", data=GENERAL | typed | bad)
    assert wrong.status_code == 400
    assert "Jours de mesure des résultats : saisissez un nombre de 1 à 60." in wrong.text
    assert 'value="90"' in wrong.text


def test_head_office_sets_how_long_receipts_are_waited_for(app, client_as):
    # « Sans accusé de réception » comes after this many hours (#18), set on the page.
    client = client_as("admin")
    page = client.get("/parametres/").text
    assert "Attente des accusés de réception (heures)" in page
    typed = {"receipt_wait_hours": "24", "csrf_token": csrf_token(page)}
    assert client.post("/parametres/", data=GENERAL | typed).status_code == 302
    with app.app_context():
        assert settings.get("receipt_wait_hours") == 24
    page = client.get("/parametres/").text
    zero = {"receipt_wait_hours": "0", "csrf_token": csrf_token(page)}
    wrong = client.post("/parametres/", data=GENERAL | zero)
    assert wrong.status_code == 400
    assert "Attente des accusés de réception (heures) : saisissez un nombre de 1 à 720." in (
        wrong.text.replace("&#39;", "'")
    )
    assert "Attente des accusés de réception" not in client_as("manager").get("/parametres/").text
