"""« Crédits SMS »: head office's top-up, the request e-mail, the monthly consumption and
the low-balance banner."""

import re
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import AuditEntry, Campaign, CreditEntry
from shopsms.services import credits, settings


def csrf_token(text):
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text)
    match = match or re.search(r'"X-CSRFToken": "([^"]+)"', text)
    return match.group(1)


def test_head_office_tops_up_and_sees_it_in_balance_and_ledger(app, client_as):
    client = client_as("admin")
    page = client.get("/credits/").text
    assert 'data-testid="balance">0<' in page
    form = {"csrf_token": csrf_token(page), "amount": "5000", "reference": "Facture 2026-031"}
    response = client.post("/credits/recharger", data=form)
    assert response.status_code == 302
    page = client.get("/credits/").text
    assert 'data-testid="balance">5 000<' in page
    assert "Facture 2026-031" in page and "+5 000" in page
    assert "Recharge de 5000 crédits enregistrée." in page
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "credits.topup"))
        assert entry.details == {"amount": 5000, "reference": "Facture 2026-031"}


def test_a_bad_top_up_says_what_to_fix_and_keeps_what_was_typed(app, client_as):
    client = client_as("admin")
    token = csrf_token(client.get("/credits/").text)
    form = {"csrf_token": token, "amount": "-3", "reference": "Bon 12"}
    response = client.post("/credits/recharger", data=form)
    assert response.status_code == 400
    assert "entier et positif" in response.text and 'value="Bon 12"' in response.text
    form = {"csrf_token": token, "amount": "100", "reference": ""}
    response = client.post("/credits/recharger", data=form)
    assert response.status_code == 400
    assert "référence de la recharge" in response.text and 'value="100"' in response.text
    with app.app_context():
        assert credits.balance() == 0


def test_only_head_office_tops_up(client_as):
    for role in ("staff", "manager"):
        client = client_as(role)
        page = client.get("/credits/").text
        assert "Recharger le compte SMS" not in page
        response = client.post(
            "/credits/recharger",
            data={"csrf_token": csrf_token(page), "amount": "100", "reference": "x"},
        )
        assert response.status_code == 403


def test_request_a_top_up_prepares_an_email(app, client_as, credits_available):
    credits_available(120)
    client = client_as("manager")
    assert "Aucune adresse pour les recharges" in client.get("/credits/").text
    with app.app_context():
        settings.put("topup_email", "compta@bijoux.example")
    page = client.get("/credits/?demande=2000").text
    link = re.search(r'href="(mailto:[^"]+)" role="button" data-testid="topup-mailto"', page)
    url = urlparse(link.group(1).replace("&amp;", "&"))
    assert unquote(url.path) == "compta@bijoux.example"
    fields = parse_qs(url.query)
    assert fields["subject"] == ["Recharge de crédits SMS — Biarritz"]
    body = fields["body"][0]
    assert "Solde actuel : 120 crédits." in body and "Recharge souhaitée : 2000 crédits." in body


def test_low_balance_banner_on_every_page(app, client_as, credits_available):
    credits_available(499)
    client = client_as("staff")
    for url in ("/", "/rapports/", "/credits/"):
        assert 'data-testid="low-credit"' in client.get(url).text, url
    with app.app_context():
        settings.put("low_credit_threshold", 100)
    assert 'data-testid="low-credit"' not in client.get("/").text


def _charge(store_id, when, parts, name="c"):
    campaign = Campaign(kind="marketing", store_id=store_id, name=name)
    db.session.add(campaign)
    db.session.flush()
    db.session.add(
        CreditEntry(
            kind="charge",
            amount=0,
            parts=parts,
            campaign_id=campaign.id,
            store_id=store_id,
            created_at=when,
        )
    )


def test_monthly_consumption_per_store(app, client_as, store, users):
    from shopsms.models import Store, utcnow

    with app.app_context():
        other = Store(code="002", name="Bayonne")
        db.session.add(other)
        db.session.flush()
        now = utcnow()
        _charge(store.id, now, 47)
        _charge(other.id, now, 5)
        db.session.commit()
    page = client_as("manager").get("/credits/").text
    assert "<svg" in page and "Crédits consommés par mois et par magasin" in page
    table = page.split('data-testid="consumption"')[1].split("</table>")[0]
    assert "Biarritz" in table and "47" in table
    assert "Bayonne" not in table  # another store's consumption is not the manager's
    chain = client_as("admin").get("/credits/").text
    table = chain.split('data-testid="consumption"')[1].split("</table>")[0]
    assert "Biarritz" in table and "Bayonne" in table


def test_a_store_sees_top_ups_but_not_head_offices_sendings(app, client_as, credits_available):
    credits_available(1000)
    with app.app_context():
        campaign = Campaign(kind="marketing", store_id=None, name="Campagne du siège")
        db.session.add(campaign)
        db.session.flush()
        db.session.add(CreditEntry(kind="reservation", amount=-300, campaign_id=campaign.id))
        db.session.commit()
    ledger = client_as("manager").get("/credits/").text
    assert "tests" in ledger  # the top-up's reference: the chain's balance is everyone's
    assert "Campagne du siège" not in ledger
    assert "Campagne du siège" in client_as("admin").get("/credits/").text


def test_a_request_amount_not_understood_is_kept_with_a_message(app, client_as):
    with app.app_context():
        settings.put("topup_email", "compta@bijoux.example")
    page = client_as("manager").get("/credits/?demande=deux+mille").text
    assert "Recharge souhaitée : saisissez un nombre de crédits entier et positif." in page
    assert 'value="deux mille"' in page
    assert 'data-testid="topup-mailto"' not in page


def test_the_banner_shows_once_the_threshold_is_reached(app, client_as, credits_available):
    credits_available(500)  # the default threshold
    client = client_as("staff")
    assert 'data-testid="low-credit"' in client.get("/").text
    credits_available(1)
    assert 'data-testid="low-credit"' not in client.get("/").text


def test_consumption_lines_show_the_credits_actually_charged(
    app, client_as, store, make_client, credits_available, redis_client
):
    from shopsms.services import campaigns
    from shopsms.services.campaigns import Recipient
    from shopsms.services.sending import finish, send_next_batch

    credits_available(100)
    long_text = "Votre commande est arrivée en magasin. " * 6  # 234 characters: 2 parts
    recipients = [Recipient(client_id=make_client()) for _ in range(3)]
    with app.app_context():
        settings.put("max_parts", 2)
        campaign = campaigns.draft(
            "repair", body=long_text.strip(), recipients=recipients, store_id=store.id
        )
        campaigns.queue_now(campaign.id)
        send_next_batch(campaign.id)
        finish(campaign.id)
        entry = db.session.scalar(select(CreditEntry).where(CreditEntry.kind == "charge"))
        assert (entry.amount, entry.parts) == (0, 6)
    ledger = client_as("manager").get("/credits/").text
    row = ledger.split('data-testid="charged"')[1].split("</td>")[0]
    assert "6 crédits" in row and "pris sur la réservation" in row
    assert '<td class="num nowrap ">0</td>' not in ledger
