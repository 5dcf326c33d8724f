"""The campaign screens through the test client: the live count, what a mistyped
criterion says, saved selections, the list of a draft, sending hours, the test SMS, and
another store's campaign kept out of reach."""

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shopsms.extensions import db
from shopsms.models import Campaign, Client, DraftRecipient, Message, Store
from shopsms.services import settings
from shopsms.services.users import create_user
from tests.conftest import PASSWORD, AuthActions, csrf_token, run_preparation

HTMX = {"HX-Request": "true"}


@pytest.fixture
def clients_64(make_client):
    return [
        make_client(last_name="ARTOLA", tel1="06 11 00 00 01", postal_code="64200"),
        make_client(last_name="BERGARA", tel1="06 11 00 00 02", postal_code="64600"),
        make_client(last_name="CHABAGNO", tel1="05 59 00 00 03", postal_code="64100"),
        make_client(last_name="DUPONT", tel1="06 11 00 00 04", postal_code="33000"),
    ]


@pytest.fixture
def always_open(app):
    with app.app_context():
        settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
        settings.put("sending_start", "00:00")
        settings.put("sending_end", "23:59")


def build(web, **criteria):
    page = web.get("/campagnes/nouvelle")
    response = web.post("/campagnes/nouvelle", data={"csrf_token": csrf_token(page), **criteria})
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_live_count_follows_the_criteria(client_as, clients_64):
    web = client_as("staff")
    page = web.get("/campagnes/nouvelle")
    assert page.status_code == 200
    assert "4 clients trouvés" in page.text
    assert 'hx-trigger="input changed delay:300ms, change"' in page.text
    partial = web.get("/campagnes/nouvelle/compte?postal_code=64&sms=with", headers=HTMX)
    assert "<html" not in partial.text
    assert "3 clients trouvés" in partial.text
    assert "2 joignables par SMS" in partial.text
    assert "pas de portable : 1" in partial.text


def test_a_mistyped_criterion_says_what_to_fix_and_keeps_the_typing(app, client_as, clients_64):
    web = client_as("staff")
    page = web.get("/campagnes/nouvelle")
    response = web.post(
        "/campagnes/nouvelle",
        data={
            "csrf_token": csrf_token(page),
            "revenue": "beaucoup",
            "postal_code": "64",
            "action": "build",
        },
    )
    assert response.status_code == 422
    assert "Chiffre d&#39;affaires : tapez un montant" in response.text
    assert 'value="beaucoup"' in response.text and 'value="64"' in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Campaign.id))) == 0  # no draft made of it
    count = web.get("/campagnes/nouvelle/compte?birthday_from=31/02", headers=HTMX)
    assert "Corrigez les critères signalés" in count.text


def test_a_saved_selection_is_opened_again_and_head_office_shares_it(app, client_as, clients_64):
    office = client_as("admin")
    page = office.get("/campagnes/nouvelle")
    response = office.post(
        "/campagnes/nouvelle",
        data={
            "csrf_token": csrf_token(page),
            "postal_code": "64",
            "sms": "with",
            "selection_name": "Pays basque",
            "action": "save",
        },
    )
    assert "Sélection « Pays basque » enregistrée." in response.text
    empty = office.post(
        "/campagnes/nouvelle",
        data={"csrf_token": csrf_token(page), "selection_name": "Rien", "action": "save"},
    )
    assert "Choisissez au moins un critère" in empty.text

    staff = client_as("staff")
    page = staff.get("/campagnes/nouvelle")
    saved_id = re.search(r'<option value="(\d+)">Pays basque', page.text).group(1)
    opened = staff.get(f"/campagnes/nouvelle?selection={saved_id}")
    assert "Sélection « Pays basque » ouverte." in opened.text
    assert 'value="64"' in opened.text
    assert "3 clients trouvés" in opened.text


def test_the_draft_lists_the_recipients_and_refuses_an_empty_text(client_as, clients_64, store):
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    assert "Liste des destinataires" in page.text
    assert "2 destinataires" in page.text
    assert "ARTOLA" in page.text and store.code in page.text
    excluded = web.get(f"/campagnes/{campaign_id}/destinataires?voir=exclus", headers=HTMX)
    assert "CHABAGNO" in excluded.text and "pas de portable" in excluded.text

    response = web.post(
        f"/campagnes/{campaign_id}/envoyer",
        data={"csrf_token": csrf_token(page), "body": "  ", "sender_id": "BIJOUX"},
    )
    assert response.status_code == 422
    assert "Le message est vide" in response.text
    response = web.post(
        f"/campagnes/{campaign_id}/envoyer",
        data={"csrf_token": csrf_token(page), "body": "Soldes <NOM>", "sender_id": "06 12"},
    )
    assert "Intitulé de l&#39;expéditeur" in response.text
    assert "Soldes &lt;NOM&gt;" in response.text  # the text typed is kept


def test_outside_sending_hours_send_offers_the_next_time(
    app, client_as, clients_64, credits_available, redis_client
):
    credits_available(10)
    with app.app_context():
        settings.put("sending_days", [])  # never: whatever the time of the test
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    with app.app_context():
        settings.put("sending_days", [0, 1, 2, 3, 4, 5])
        settings.put("sending_start", "08:00")
        settings.put("sending_end", "08:01")
    data = {"csrf_token": csrf_token(page), "body": "Soldes !", "sender_id": "BIJOUX"}
    response = web.post(f"/campagnes/{campaign_id}/envoyer", data=data)
    assert "Prochain créneau" in response.text
    assert re.search(r"Envoyer le \d\d/\d\d/\d{4} à 08:00", response.text)
    response = web.post(f"/campagnes/{campaign_id}/envoyer", data=data | {"accept_next": "1"})
    assert response.status_code == 302
    assert run_preparation(app, campaign_id) == "queued"
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "queued" and campaign.not_before is not None


def test_deferred_in_the_past_is_refused(client_as, clients_64, credits_available, always_open):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    yesterday = date.today() - timedelta(days=1)
    response = web.post(
        f"/campagnes/{campaign_id}/differer",
        data={
            "csrf_token": csrf_token(page),
            "body": "Soldes !",
            "sender_id": "BIJOUX",
            "date": yesterday.isoformat(),
            "time": "10:00",
        },
    )
    assert response.status_code == 422
    assert "La date d&#39;envoi différé est passée" in response.text
    assert f'value="{yesterday.isoformat()}"' in response.text


def test_a_test_sms_goes_to_ones_own_mobile(
    app, client_as, clients_64, credits_available, redis_client
):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    data = {"csrf_token": csrf_token(page), "body": "Bonjour <NOM>", "sender_id": "BIJOUX"}
    wrong = web.post(f"/campagnes/{campaign_id}/test", data=data | {"test_phone": "05 59"})
    assert "Tapez votre numéro de portable" in wrong.text
    sent = web.post(f"/campagnes/{campaign_id}/test", data=data | {"test_phone": "06 99 88 77 66"})
    assert "SMS de test envoyé au 06 99 88 77 66." in sent.text
    with app.app_context():
        message = db.session.scalars(
            select(Message).join(Campaign).where(Campaign.kind == "single")
        ).one()
        assert message.phone == "+33699887766"
        assert message.text == "Bonjour Mme Sabine ARTOLA\nSTOP 36608"
    assert 'value="06 99 88 77 66"' in web.get(f"/campagnes/{campaign_id}").text  # remembered


def test_another_stores_campaign_is_out_of_reach(app, client_as, clients_64):
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    with app.app_context():
        db.session.add(Store(code="002", name="Bayonne"))
        db.session.commit()
        create_user("vendeur.bayonne", PASSWORD, "staff", "002")
    other = app.test_client()
    assert AuthActions(other).login("vendeur.bayonne").status_code == 302
    assert other.get(f"/campagnes/{campaign_id}").status_code == 404
    page = other.get("/campagnes/nouvelle")
    with app.app_context():
        message_id = db.session.scalar(
            select(DraftRecipient.id).where(DraftRecipient.campaign_id == campaign_id)
        )
    removed = other.post(
        f"/campagnes/{campaign_id}/destinataires/{message_id}/retirer",
        data={"csrf_token": csrf_token(page)},
    )
    assert removed.status_code == 404
    # Their own selection never holds Biarritz's clients.
    assert "Aucun client trouvé" in page.text


def test_the_composer_costs_the_drafts_recipients(app, client_as, clients_64, credits_available):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    assert f'name="campaign_id" value="{campaign_id}"' in page.text
    data = {
        "csrf_token": csrf_token(page),
        "kind": "marketing",
        "campaign_id": campaign_id,
        "body": "Bonjour <NOM>, soldes !",
        "add_stop": "1",
    }
    preview = web.post("/composer/apercu", data=data, headers=HTMX)
    assert re.search(r'data-testid="recipients">\s*2<', preview.text)
    assert re.search(r'data-testid="credits-left">\s*8<', preview.text)
    with app.app_context():
        message_id = db.session.scalar(
            select(DraftRecipient.id).where(
                DraftRecipient.campaign_id == campaign_id, DraftRecipient.state == "pending"
            )
        )
    removed = web.post(
        f"/campagnes/{campaign_id}/destinataires/{message_id}/retirer",
        data={"csrf_token": csrf_token(page)},
        headers=HTMX,
    )
    assert removed.headers["HX-Trigger"] == "recipients-changed"
    assert "1 destinataire" in removed.text
    preview = web.post("/composer/apercu", data=data, headers=HTMX)
    assert re.search(r'data-testid="recipients">\s*1<', preview.text)
    assert web.post("/composer/apercu", data=data | {"campaign_id": "999999"}).status_code == 404


def test_a_scheduled_campaign_is_moved_then_called_off(
    app, client_as, clients_64, credits_available, always_open, redis_client
):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    day = date.today() + timedelta(days=3)
    data = {
        "csrf_token": csrf_token(page),
        "body": "Soldes !",
        "sender_id": "BIJOUX",
        "date": day.isoformat(),
        "time": "10:00",
    }
    assert web.post(f"/campagnes/{campaign_id}/differer", data=data).status_code == 302
    assert "En préparation" in web.get(f"/campagnes/{campaign_id}").text
    assert run_preparation(app, campaign_id) == "scheduled"
    shown = web.get(f"/campagnes/{campaign_id}")
    assert "Programmé" in shown.text and "2 crédits réservés." in shown.text
    moved = web.post(
        f"/campagnes/{campaign_id}/differer", data=data | {"time": "11:30"}, follow_redirects=True
    )
    assert f"Campagne programmée le {day:%d/%m/%Y} 11:30." in moved.text
    called_off = web.post(
        f"/campagnes/{campaign_id}/annuler",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "Programmation annulée" in called_off.text
    assert "Liste des destinataires" in called_off.text  # a draft again
    with app.app_context():
        from shopsms.services import credits

        assert credits.balance() == 10


def test_a_second_send_click_says_it_is_gone_and_takes_nothing(
    app, client_as, clients_64, credits_available, always_open, redis_client
):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    assert "data-submit-once" in page.text  # the button goes disabled once clicked
    data = {"csrf_token": csrf_token(page), "body": "Soldes !", "sender_id": "BIJOUX"}
    assert web.post(f"/campagnes/{campaign_id}/envoyer", data=data).status_code == 302
    again = web.post(f"/campagnes/{campaign_id}/envoyer", data=data, follow_redirects=True)
    assert "déjà partie ou programmée" in again.text
    assert run_preparation(app, campaign_id) == "queued"
    web.post(
        f"/campagnes/{campaign_id}/differer",
        data=data | {"date": (date.today() + timedelta(days=2)).isoformat(), "time": "10:00"},
    )
    with app.app_context():
        from shopsms.services import credits

        assert credits.balance() == 8
        assert db.session.get(Campaign, campaign_id).status == "queued"


def test_a_time_the_clocks_skip_says_so(client_as, clients_64, credits_available, always_open):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    year = date.today().year + 1
    last_sunday_of_march = max(
        date(year, 3, day) for day in range(25, 32) if date(year, 3, day).weekday() == 6
    )
    response = web.post(
        f"/campagnes/{campaign_id}/differer",
        data={
            "csrf_token": csrf_token(page),
            "body": "Soldes !",
            "sender_id": "BIJOUX",
            "date": last_sunday_of_march.isoformat(),
            "time": "02:30",
        },
    )
    assert response.status_code == 422
    assert "Cette heure n&#39;existe pas ce jour-là (changement d&#39;heure)." in response.text


def test_a_scheduled_campaign_is_cancelled_for_good(
    app, client_as, clients_64, credits_available, always_open, redis_client
):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    data = {
        "csrf_token": csrf_token(page),
        "body": "Soldes !",
        "sender_id": "BIJOUX",
        "date": (date.today() + timedelta(days=3)).isoformat(),
        "time": "10:00",
    }
    deferred = web.post(f"/campagnes/{campaign_id}/differer", data=data)
    assert deferred.status_code == 302, deferred.text
    assert run_preparation(app, campaign_id) == "scheduled"
    shown = web.get(f"/campagnes/{campaign_id}")
    assert "Annuler la programmation" in shown.text and "Annuler l'envoi" in shown.text
    stopped = web.post(
        f"/campagnes/{campaign_id}/annuler",
        follow_redirects=True,
        data={"csrf_token": csrf_token(page), "action": "stop"},
    )
    assert "Envoi annulé" in stopped.text and "Annulé" in stopped.text
    twice = web.post(
        f"/campagnes/{campaign_id}/annuler",
        follow_redirects=True,
        data={"csrf_token": csrf_token(page)},
    )
    assert "Annuler l'envoi" not in twice.text
    with app.app_context():
        from shopsms.services import credits

        assert credits.balance() == 10


def test_quitting_a_draft_drops_it(app, client_as, clients_64):
    web = client_as("staff")
    build(web, postal_code="64", action="build")
    again = build(web, postal_code="64", action="build")  # the same selection: not a second draft
    page = web.get(f"/campagnes/{again}")
    assert 'data-testid="quit-draft"' in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Campaign.id))) == 1
    left = web.post(f"/campagnes/{again}/quitter", data={"csrf_token": csrf_token(page)})
    assert left.status_code == 302 and left.headers["Location"].endswith("/campagnes/")
    with app.app_context():
        assert db.session.scalar(select(func.count(Campaign.id))) == 0
        assert db.session.scalar(select(func.count(Message.id))) == 0
        assert db.session.scalar(select(func.count(DraftRecipient.id))) == 0


def test_envoyer_answers_at_once_and_the_live_page_follows_the_preparation(
    app, client_as, clients_64, credits_available, always_open, redis_client
):
    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    data = {"csrf_token": csrf_token(page), "body": "Soldes <PRENOM> !", "sender_id": "BIJOUX"}
    sent = web.post(f"/campagnes/{campaign_id}/envoyer", data=data, follow_redirects=True)
    assert "Envoi en préparation" in sent.text and "En préparation" in sent.text
    assert 'data-testid="preparation-bar"' in sent.text and 'hx-trigger="every 1s"' in sent.text
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "preparing"
        # The list is locked meanwhile: what is being paid for cannot change.
        assert db.session.scalar(select(func.sum(DraftRecipient.parts))) == 0
    assert run_preparation(app, campaign_id) == "queued"
    poll = web.get(f"/campagnes/{campaign_id}/progression", headers=HTMX)
    assert "En file" in poll.text and "0 SMS parti sur 2" in poll.text
    with app.app_context():
        from shopsms.services import credits

        assert credits.balance() == 8


def test_a_refusal_by_the_preparation_comes_back_to_the_draft_with_its_reason(
    app, client_as, clients_64, credits_available, always_open, redis_client
):
    credits_available(1)  # two recipients: 2 credits, known once the texts are made
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    body = "Soldes <PRENOM> ! " + "x" * 100
    data = {"csrf_token": csrf_token(page), "body": body, "sender_id": "BIJOUX"}
    assert web.post(f"/campagnes/{campaign_id}/envoyer", data=data).status_code == 302
    assert run_preparation(app, campaign_id) == "draft"
    poll = web.get(f"/campagnes/{campaign_id}/progression", headers=HTMX)
    assert poll.headers["HX-Redirect"] == f"/campagnes/{campaign_id}"
    shown = web.get(f"/campagnes/{campaign_id}")
    assert "Liste des destinataires" in shown.text and 'data-testid="send-error"' in shown.text
    assert "Crédits insuffisants : cet envoi coûte 2 crédits et il en reste 1." in shown.text
    assert "x" * 100 in shown.text  # the text typed is kept
    with app.app_context():
        from shopsms.services import credits

        assert credits.balance() == 1


def test_a_preparation_redis_lost_is_queued_again_by_the_sweep(
    app, client_as, clients_64, credits_available, always_open, redis_client
):
    from shopsms.models import utcnow
    from shopsms.queue import get_queue
    from shopsms.services import recipients

    credits_available(10)
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    page = web.get(f"/campagnes/{campaign_id}")
    data = {"csrf_token": csrf_token(page), "body": "Soldes !", "sender_id": "BIJOUX"}
    assert web.post(f"/campagnes/{campaign_id}/envoyer", data=data).status_code == 302
    with app.app_context():
        get_queue().empty()  # the job lost (a Redis restart without its disk)
        assert recipients.resume_preparations() == []  # not stale yet
        later = utcnow() + timedelta(hours=1)
        assert recipients.resume_preparations(now=later) == [campaign_id]
    assert run_preparation(app, campaign_id) == "queued"


def _shown(html):
    """The names of a page of the recipient list, in the order shown, and its links."""
    names = re.findall(r'<tr data-message="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', html)
    pager = re.findall(r'<a href="([^"]+)"[^>]*rel="(prev|next)"', html)
    links = {rel: link.replace("&amp;", "&") for link, rel in pager}
    return names, links


def test_the_recipient_list_pages_in_name_order_and_keeps_its_page_after_a_removal(
    app, client_as, make_client
):
    # Names out of their ids' order, namesakes told apart by first name then by card.
    last_names = ["ZUBIRI", "ARTOLA", "MENDY", "ETCHE", "ARTOLA", "BIDART", "ARTOLA"]
    first_names = ["Paule", "Anne", "Jon", "Maite", "Anne", "Iker"]
    for n in range(40):
        make_client(last_name=last_names[n % 7], first_name=first_names[n % 6], postal_code="64200")
    with app.app_context():
        cards = db.session.execute(
            select(Client.last_name, Client.first_name).order_by(
                Client.last_name, Client.first_name, Client.id
            )
        ).all()
    expected = [f"{last} {first}" for last, first in cards]
    web = client_as("staff")
    campaign_id = build(web, postal_code="64", action="build")
    url = f"/campagnes/{campaign_id}/destinataires"
    seen, pages = [], []
    while url:
        page = web.get(url, headers=HTMX)
        names, links = _shown(page.text)
        seen += names
        pages.append((url, names))
        url = links.get("next")
    assert seen == expected
    assert [len(names) for _url, names in pages] == [15, 15, 10]
    assert "Page 3 sur 3" in page.text

    # « Précédent » from the last page shows the second one again.
    back = web.get(links["prev"], headers=HTMX)
    assert _shown(back.text)[0] == pages[1][1]
    assert "Page 2 sur 3" in back.text

    # A row of page 2 removed: page 2 again, from the next row, one name taken from page 3.
    message_id = re.search(r'hx-post="[^"]+/destinataires/(\d+)/retirer"', back.text).group(1)
    vals = re.search(r"hx-vals='([^']+)'", back.text).group(1)
    form = {"csrf_token": csrf_token(web.get(f"/campagnes/{campaign_id}"))} | json.loads(vals)
    removed = web.post(
        f"/campagnes/{campaign_id}/destinataires/{message_id}/retirer", data=form, headers=HTMX
    )
    assert _shown(removed.text)[0] == pages[1][1][1:] + pages[2][1][:1]
    assert "39 destinataires" in removed.text and "Page 2 sur 3" in removed.text

    # A page asked for by its number, or from a place that is not a number.
    assert _shown(web.get(f"{pages[0][0]}?page=2", headers=HTMX).text)[0] == seen[16:31]
    odd = web.get(f"{pages[0][0]}?depuis=abc&avant=-3", headers=HTMX)
    assert odd.status_code == 200 and _shown(odd.text)[0] == seen[:15]
