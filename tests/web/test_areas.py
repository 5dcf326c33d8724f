"""The first page of each area: real data, scoped to the person's store, French words."""

import html
import re
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from sqlalchemy import event

from shopsms.extensions import db
from shopsms.models import Campaign, CreditEntry, Message, RepairTicket, Store, User


@contextmanager
def count_queries(app):
    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def other_store(app):
    with app.app_context():
        store = Store(code="002", name="Bayonne", city="Bayonne", sms_enabled=False)
        db.session.add(store)
        db.session.commit()
        return store.id


def add_campaign(app, store_id, name, *, states=(), status="sent", finished=True, **fields):
    """A campaign of `store_id` with one message per state in `states`."""
    with app.app_context():
        author = db.session.query(User).filter_by(username="vendeur").one()
        campaign = Campaign(
            kind=fields.pop("kind", "marketing"),
            status=status,
            name=name,
            store_id=store_id,
            created_by_id=author.id,
            sender_id="BIJOUX",
            recipients_count=len(states),
            finished_at=datetime(2026, 3, 2, 9, 30) if finished else None,
            **fields,
        )
        db.session.add(campaign)
        db.session.flush()
        for n, state in enumerate(states):
            db.session.add(
                Message(
                    campaign_id=campaign.id,
                    phone=f"+3361200{n:04d}",
                    state=state,
                    skip_reason="no_consent" if state == "skipped" else "",
                    parts=1,
                )
            )
        db.session.commit()
        return campaign.id


@pytest.fixture
def chain(app, users, store, other_store, make_client):
    """Store A (001 Biarritz, the users' store) and store B (002 Bayonne), each with a
    client, a sending, a finished report, a repair ticket and credit lines."""
    ids = {
        "client_a": make_client(last_name="ALPHA", number="A000001", tel1="06 11 22 33 44"),
        "client_b": make_client(
            last_name="BRAVO", number="B000001", tel1="06 11 22 33 55", store_id=other_store
        ),
    }
    for key, store_id in (("a", store.id), ("b", other_store)):
        ids[f"campaign_{key}"] = add_campaign(
            app,
            store_id,
            f"Soldes magasin {key.upper()}",
            states=("delivered", "delivered", "failed", "skipped", "submitted"),
        )
    with app.app_context():
        for key, store_id in (("a", store.id), ("b", other_store)):
            db.session.add(
                RepairTicket(
                    number=f"51{key}001",
                    client_id=ids[f"client_{key}"],
                    store_id=store_id,
                    kind="repair",
                    status="ready",
                    item_description=f"Montre du magasin {key.upper()}",
                    work_description="Fournir et poser une pile",
                    client_price=30,
                    received_on=date(2026, 2, 1),
                )
            )
            db.session.add(
                CreditEntry(
                    kind="reservation",
                    amount=-4,
                    campaign_id=ids[f"campaign_{key}"],
                    store_id=store_id,
                    reference=f"ligne-{key}",
                )
            )
        db.session.add(CreditEntry(kind="topup", amount=1000, reference="Recharge de mars"))
        db.session.commit()
    return ids


AREAS = {
    "/clients/": "Clients",
    "/campagnes/": "Campagnes",
    "/sav/": "Liste des fiches SAV",
    "/rapports/": "Rapports d'envoi non traités",
    "/credits/": "Crédits SMS",
    "/parametres/": "Paramètres",
}


@pytest.mark.parametrize("role", ["staff", "manager", "admin"])
def test_every_area_answers_for_its_roles(client_as, chain, role):
    client = client_as(role)
    home = client.get("/").text
    for url, title in AREAS.items():
        response = client.get(url)
        if url == "/parametres/" and role == "staff":
            assert response.status_code == 403
            assert 'href="/parametres/"' not in home  # not in the staff's navigation
            continue
        assert response.status_code == 200, (url, response.text[:300])
        assert f"<h1>{title}</h1>" in response.text.replace("&#39;", "'")
        assert f'href="{url}"' in home


def test_staff_of_a_store_never_see_another_store(client_as, chain):
    client = client_as("staff")
    clients = client.get("/clients/").text
    assert "ALPHA" in clients and "BRAVO" not in clients
    campaigns = client.get("/campagnes/").text
    assert "Soldes magasin A" in campaigns and "Soldes magasin B" not in campaigns
    repairs = client.get("/sav/").text
    assert "Montre du magasin A" in repairs and "Montre du magasin B" not in repairs
    reports = client.get("/rapports/").text
    assert f'data-campaign="{chain["campaign_a"]}"' in reports
    assert f'data-campaign="{chain["campaign_b"]}"' not in reports
    ledger = client.get("/credits/").text
    assert "ligne-a" in ledger and "ligne-b" not in ledger
    assert "Recharge de mars" in ledger  # the chain's top-ups explain the balance


def test_head_office_sees_the_chain(client_as, chain):
    client = client_as("admin")
    assert "BRAVO" in client.get("/clients/").text
    assert "Soldes magasin B" in client.get("/campagnes/").text
    assert "Montre du magasin B" in client.get("/sav/").text
    assert "ligne-b" in client.get("/credits/").text
    settings = client.get("/parametres/").text
    assert "Bayonne" in settings and "Biarritz" in settings


def test_client_search_answers_the_partial_to_htmx(client_as, chain):
    client = client_as("staff")
    full = client.get("/clients/?q=06+11+22")
    assert "<html" in full.text and 'id="q"' in full.text and "ALPHA" in full.text
    partial = client.get("/clients/?q=%2B33%206%2011", headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section id="client-results"')
    assert "ALPHA" in partial.text and "BRAVO" not in partial.text
    assert "HX-Request" in partial.headers["Vary"]
    nobody = client.get("/clients/?q=zzz", headers={"HX-Request": "true"}).text
    assert "Aucun client ne correspond à « zzz »" in nobody


def test_client_list_columns_in_french(client_as, make_client, chain):
    make_client(last_name="FIXE", number="A000002", tel1="05 59 12 34 56", sms_refuses_all=True)
    page = client_as("staff").get("/clients/").text
    for heading in ("N° client", "Nom", "Prénom", "Ville", "Tél.", "N° SMS", "Magasin", "SMS"):
        assert f">{heading}</th>" in page
    assert "Numéro fixe, pas un portable : 05 59 12 34 56" in page
    assert "Refuse tout SMS" in page and "Accepte" in page
    assert "06 11 22 33 44" in page


def test_client_list_pages_and_one_query_whatever_the_page_size(app, client_as, make_client, store):
    client = client_as("staff")
    make_client(last_name="SEUL")
    with count_queries(app) as few:
        client.get("/clients/")
    for n in range(60):
        make_client(last_name=f"NOM{n:02d}")
    with count_queries(app) as many:
        first = client.get("/clients/").text
    assert len(many) == len(few)  # no query per row
    assert "61 clients" in first and "Suivant" in first and "Précédent" not in first
    second = client.get("/clients/?page=2").text
    assert "Précédent" in second and "Suivant" not in second and "SEUL" in second


def test_campaign_progress_bar_and_polling_only_while_sending(app, client_as, chain, store):
    client = client_as("staff")
    page = client.get("/campagnes/").text
    assert 'hx-trigger="every 2s"' not in page  # nothing is going out
    # 3 of 4 handed over (submitted, delivered, failed), 1 skipped out of 5.
    row = re.search(rf'data-campaign="{chain["campaign_a"]}".*?</tr>', page, re.S).group(0)
    assert 'data-done="4"' in row and 'data-total="4"' in row
    assert "Envoyé" in row and "Campagne" in row and "Sabine Vendeuse" in row

    sending = add_campaign(
        app,
        store.id,
        "En plein envoi",
        status="sending",
        finished=False,
        states=("delivered", "submitted", "pending", "pending", "skipped", "pending"),
    )
    page = client.get("/campagnes/").text
    assert 'hx-trigger="every 2s"' in page
    row = re.search(rf'data-campaign="{sending}".*?</tr>', page, re.S).group(0)
    assert 'data-done="2"' in row and 'data-total="5"' in row and "En cours" in row
    # The poll answers the list alone, still polling while it sends.
    poll = client.get("/campagnes/", headers={"HX-Request": "true"}).text
    assert poll.lstrip().startswith('<section id="campaign-list"')
    assert 'hx-trigger="every 2s"' in poll

    with app.app_context():
        db.session.get(Campaign, sending).status = "sent"
        db.session.commit()
    poll = client.get("/campagnes/", headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in poll  # the attribute is gone: polling stops


def test_campaign_status_filter_and_scheduled_date_in_paris_time(app, client_as, chain, store):
    add_campaign(
        app,
        store.id,
        "Fête des mères",
        status="scheduled",
        finished=False,
        scheduled_at=datetime(2026, 5, 30, 7, 0),
        status_note="Envoi différé",
    )
    client = client_as("staff")
    scheduled = client.get("/campagnes/?statut=scheduled").text
    assert "Fête des mères" in scheduled and "Soldes magasin A" not in scheduled
    assert "Programmé" in scheduled and "le 30/05/2026 09:00" in scheduled  # UTC+2 in May
    assert "Envoi différé" in scheduled
    assert "Aucun envoi avec ce statut." in client.get("/campagnes/?statut=draft").text


def test_campaign_list_costs_the_same_queries_for_many_rows(app, client_as, store):
    client = client_as("staff")
    add_campaign(app, store.id, "Un", states=("delivered",))
    with count_queries(app) as few:
        client.get("/campagnes/")
    for n in range(20):
        add_campaign(app, store.id, f"Envoi {n}", states=("delivered", "failed", "skipped"))
    with count_queries(app) as many:
        client.get("/campagnes/")
    assert len(many) == len(few)


def test_reports_list_counts_and_delivery_rate(app, client_as, chain, store):
    add_campaign(app, store.id, "Déjà lu", states=("delivered",), closed_at=datetime(2026, 3, 3))
    page = client_as("staff").get("/rapports/").text
    assert "Déjà lu" not in page
    row = re.search(rf'data-campaign="{chain["campaign_a"]}".*?</tr>', page, re.S).group(0)
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', row))
    assert counts == {"delivered": "2", "failed": "1", "pending": "1", "skipped": "1"}
    assert 'data-rate="50"' in row and "width: 50%" in row  # 2 delivered of 4 sent
    assert "BIJOUX" in row and "Sabine Vendeuse" in row


def test_reports_empty_state(client_as):
    page = client_as("manager").get("/rapports/").text
    assert "Aucun rapport d'envoi à traiter" in page


def test_repairs_criteria(app, client_as, chain, store, make_client):
    with app.app_context():
        nosms = make_client(last_name="SANSPORTABLE", tel1="05 59 00 00 00")
        for number, kind, status, client_id in (
            ("52a001", "quote", "ready", chain["client_a"]),
            ("52a002", "warranty", "collected", chain["client_a"]),
            ("52a003", "repair", "ready", nosms),
        ):
            db.session.add(
                RepairTicket(
                    number=number,
                    client_id=client_id,
                    store_id=store.id,
                    kind=kind,
                    status=status,
                    client_price=0,
                    collected_on=date(2026, 2, 20) if status == "collected" else None,
                )
            )
        db.session.commit()
    client = client_as("staff")
    default = client.get("/sav/").text  # Réparations, Disponibles: the seed's defaults
    assert "51a001" in default and "52a003" in default
    assert "52a001" not in default and "52a002" not in default
    for heading in ("N° fiche", "Client", "Opér.", "Descriptif", "Réparation", "Montant", "Sortie"):
        assert f">{heading}</th>" in default
    assert "30,00" in default and "Rép." in default

    def found(query):
        page = client.get("/sav/?criteres=1&" + query, headers={"HX-Request": "true"}).text
        assert "<html" not in page
        return sorted(set(re.findall(r"5[12]a00\d", page)))

    assert found("devis=1&statut=ready") == ["52a001"]
    assert found("reparations=1&devis=1&statut=all") == ["51a001", "52a001", "52a002", "52a003"]
    assert found("reparations=1&statut=collected") == ["52a002"]
    assert found("reparations=1&statut=ready&sms=with") == ["51a001"]
    assert found("reparations=1&statut=ready&sms=without") == ["52a003"]
    assert found("reparations=1&statut=all&fiche=52a") == ["52a002", "52a003"]
    assert found("reparations=1&statut=all&nom=sansp") == ["52a003"]
    assert "Aucune fiche SAV" in client.get("/sav/?criteres=1&statut=all").text


def test_credits_balance_and_ledger_newest_first(app, client_as, chain):
    page = client_as("admin").get("/credits/").text
    assert 'data-testid="balance">992<' in page  # 1000 - 4 - 4
    assert "Recharge" in page and "Réservation" in page and "+1 000" in page and "-4" in page
    assert "Soldes magasin A" in page
    assert page.index("Recharge de mars") < page.index("ligne-a")  # newest first


def test_settings_read_only_for_managers_and_no_secret(app, client_as, chain):
    app.config["KANNEL_PASSWORD"] = "tres-secret-kannel"
    app.config["SMPP_PASSWORD"] = "tres-secret-smpp"
    page = client_as("manager").get("/parametres/").text
    assert "SHOPSMS" in page and "STOP 36608" in page
    assert "lundi, mardi, mercredi, jeudi, vendredi, samedi, de 08:00 à 20:00" in page
    # A lazy label is escaped like any text (its apostrophe too).
    assert "Proposition d'un message" in html.unescape(page) and "après 15 jours" in page
    assert "Module SMS activé" in page and "Biarritz" in page
    assert "Bayonne" not in page  # a manager sees their store
    assert "Simulation" in page
    assert "secret" not in page.lower() and "password" not in page.lower()
    # Issue 8: managers edit their store's values; the gateway and its secrets are not theirs.
    assert 'type="password"' not in page and 'name="stop_short_code"' not in page


def test_history_restore_gets_the_whole_page(client_as, chain):
    """htmx restoring a pushed URL after a cache miss sends HX-Request too: whole page."""
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    for url in ("/clients/?q=alp", "/campagnes/", "/sav/", "/rapports/", "/credits/"):
        assert "<html" in client_as("staff").get(url, headers=headers).text, url


def test_a_short_phone_search_asks_for_more_digits(client_as, make_client):
    make_client(tel1="06 86 98 79 73")
    staff = client_as("staff")
    assert "tapez au moins 4 chiffres" in staff.get("/clients/?q=06+8").text
    found = staff.get("/clients/?q=06+86").text
    assert "06 86 98 79 73" in found and "tapez au moins" not in found


def test_the_pager_keeps_repeated_arguments(client_as, make_client):
    for n in range(60):
        make_client(last_name=f"NOM{n:02d}")
    page = client_as("staff").get("/clients/?marque=a&marque=b").text
    assert "marque=a&amp;marque=b&amp;page=2" in page


def test_a_page_reads_the_settings_once_and_a_partial_not_at_all(app, client_as, chain):
    client = client_as("manager")
    client.get("/rapports/")  # the session and the login are warm
    with count_queries(app) as whole:
        client.get("/rapports/")
    with count_queries(app) as part:
        client.get("/rapports/?page=1", headers={"HX-Request": "true"})
    reads = [s for s in whole if "FROM settings" in s]
    assert len(reads) == 1
    assert not [s for s in part if "FROM settings" in s]
