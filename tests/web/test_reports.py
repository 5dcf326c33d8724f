"""« Rapports d'envoi »: the detail, its filters and exports, closing, closed search and
the « fiches à corriger »."""

import csv
import io
import re
from datetime import datetime

import pytest
from sqlalchemy import event, select

from shopsms.extensions import db
from shopsms.models import AuditEntry, Campaign, Message, Store, User
from shopsms.models.followup import FollowupTask


def csrf_token(response):
    text = response if isinstance(response, str) else response.text
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text)
    match = match or re.search(r'"X-CSRFToken": "([^"]+)"', text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def add_report(app, store_id, name, messages, *, kind="marketing", finished=True, closed=None):
    """A finished sending of `store_id`: messages as (state, fields) pairs."""
    with app.app_context():
        author = db.session.scalar(select(User).where(User.username == "vendeur"))
        campaign = Campaign(
            kind=kind,
            status="sent" if finished else "sending",
            name=name,
            store_id=store_id,
            created_by_id=author.id,
            sender_id="BIJOUX",
            recipients_count=len(messages),
            body="Bonjour <PRENOM>",
            finished_at=datetime(2026, 3, 2, 9, 30) if finished else None,
            closed_at=closed,
        )
        db.session.add(campaign)
        db.session.flush()
        for n, (state, fields) in enumerate(messages):
            db.session.add(
                Message(
                    campaign_id=campaign.id,
                    phone=f"+3361200{n:04d}",
                    state=state,
                    text=f"Bonjour n°{n}",
                    parts=1,
                    **fields,
                )
            )
        db.session.commit()
        return campaign.id


@pytest.fixture
def report(app, users, store, make_client):
    good = make_client(last_name="DELIVRE", tel1="06 11 22 33 44")
    landline = make_client(last_name="FIXE", tel1="05 59 00 00 00")
    unknown = make_client(last_name="INCONNU", tel1="06 00 00 00 01")
    return add_report(
        app,
        store.id,
        "Soldes d'hiver",
        [
            ("delivered", {"client_id": good}),
            ("failed", {"client_id": unknown, "error": "Numéro inexistant (plage de test)"}),
            ("skipped", {"client_id": landline, "skip_reason": "no_mobile"}),
            ("submitted", {}),
        ],
    )


def test_detail_shows_each_recipient_with_the_operator_reason(client_as, report):
    page = client_as("staff").get(f"/rapports/{report}").text
    assert f"<h1>Rapport d'envoi n° {report}</h1>" in page
    assert "Numéro inexistant (plage de test)" in page
    assert "Pas de numéro de portable (fixe, invalide ou vide)" in page
    assert "Bonjour n°1" in page and "DELIVRE" in page
    legend = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert legend == {"delivered": "1", "failed": "1", "pending": "1", "skipped": "1"}
    assert "<svg" in page and "<title" in page  # the chart says what it draws


def test_filter_by_state_answers_the_partial_to_htmx(client_as, report):
    client = client_as("manager")
    part = client.get(f"/rapports/{report}?etat=failed", headers={"HX-Request": "true"}).text
    assert "<html" not in part
    assert re.findall(r'data-state="(\w+)">\s*<td', part) == ["failed"]
    assert "INCONNU" in part and "DELIVRE" not in part
    whole = client.get(f"/rapports/{report}?etat=failed").text
    assert "<html" in whole and "INCONNU" in whole and "DELIVRE" not in whole


def test_csv_export_opens_in_french_excel(client_as, report):
    response = client_as("staff").get(f"/rapports/{report}/export.csv?etat=failed")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(f'rapport-{report}-failed.csv"')
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["N° client", "Client", "Numéro"]
    assert len(rows) == 2
    assert rows[1][5:7] == ["Échec", "Numéro inexistant (plage de test)"]


def test_excel_export_is_a_workbook(client_as, report):
    from openpyxl import load_workbook

    response = client_as("staff").get(f"/rapports/{report}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "N° client" and len(values) == 5
    assert [row[5] for row in values[1:]] == ["Délivré", "Échec", "Non envoyé", "Envoyé"]


def test_staff_cannot_close_even_with_a_forged_post(app, client_as, report):
    client = client_as("staff")
    page = client.get(f"/rapports/{report}").text
    assert "Clôturer le rapport" not in page
    assert "Tout clôturer" not in client.get("/rapports/").text
    token = csrf_token(page)
    assert (
        client.post(f"/rapports/{report}/cloturer", data={"csrf_token": token}).status_code == 403
    )
    assert client.post("/rapports/tout-cloturer", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        assert db.session.get(Campaign, report).closed_at is None


def test_a_manager_closes_a_report_and_it_leaves_the_list(app, client_as, report, users):
    client = client_as("manager")
    page = client.get(f"/rapports/{report}").text
    assert f"Clôturer le rapport {report}" in page
    assert 'name="fiches" value="1" checked' in page  # offered before its line has loaded
    line = client.get(f"/rapports/{report}/fiches", headers={"HX-Request": "true"}).text
    assert "1 fiche pour Biarritz" not in line  # two cards to fix: the landline and unknown
    assert "2 fiches pour Biarritz" in line and 'name="fiches"' in line
    assert "<html" not in line
    response = client.post(f"/rapports/{report}/cloturer", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    listing = client.get("/rapports/").text
    assert f"Rapport n° {report} clôturé." in listing
    assert f'data-campaign="{report}"' not in listing
    with app.app_context():
        campaign = db.session.get(Campaign, report)
        assert campaign.closed_by_id == users["manager"].id
        assert (
            db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "report.close"))
            == "report.close"
        )
        assert db.session.scalars(select(FollowupTask)).all() == []  # not asked for


def test_closing_with_fiches_a_corriger_makes_tasks_for_the_store(app, client_as, report, store):
    client = client_as("manager")
    page = client.get(f"/rapports/{report}").text
    client.post(
        f"/rapports/{report}/cloturer", data={"csrf_token": csrf_token(page), "fiches": "1"}
    )
    tasks = client_as("staff").get("/rapports/fiches-a-corriger").text
    assert "FIXE" in tasks and "INCONNU" in tasks and "DELIVRE" not in tasks
    assert "Échec : Numéro inexistant (plage de test)" in tasks
    assert "05 59 00 00 00" in tasks
    with app.app_context():
        task_id = db.session.scalar(
            select(FollowupTask.id)
            .join(FollowupTask.client)
            .where(FollowupTask.store_id == store.id, FollowupTask.phone == "05 59 00 00 00")
        )
    staff = client_as("staff")
    token = csrf_token(staff.get("/rapports/fiches-a-corriger"))
    assert (
        staff.post(
            f"/rapports/fiches-a-corriger/{task_id}/faite", data={"csrf_token": token}
        ).status_code
        == 302
    )
    remaining = staff.get("/rapports/fiches-a-corriger").text
    assert "FIXE" not in remaining and "INCONNU" in remaining
    assert "FIXE" in staff.get("/rapports/fiches-a-corriger?faites=1").text


def test_close_all_closes_the_finished_reports_the_person_sees(app, client_as, users, store):
    with app.app_context():
        other = Store(code="002", name="Bayonne")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    mine = add_report(app, store.id, "Mine", [("delivered", {})])
    running = add_report(app, store.id, "En cours", [("pending", {})], finished=False)
    theirs = add_report(app, other_id, "Theirs", [("delivered", {})])
    client = client_as("manager")
    page = client.get("/rapports/").text
    client.post("/rapports/tout-cloturer", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        closed = {c.id: c.closed_at is not None for c in db.session.scalars(select(Campaign))}
    assert closed == {mine: True, running: False, theirs: False}


def test_closed_reports_are_searchable_by_date_store_and_kind(app, client_as, users, store):
    with app.app_context():
        other = Store(code="002", name="Bayonne")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    closed = datetime(2026, 3, 3)
    march = add_report(app, store.id, "Mars Biarritz", [("delivered", {})], closed=closed)
    repair = add_report(
        app, other_id, "SAV Bayonne", [("delivered", {})], kind="repair", closed=closed
    )
    add_report(app, store.id, "Pas encore lu", [("delivered", {})])
    admin = client_as("admin")

    def found(query):
        page = admin.get("/rapports/clotures?" + query, headers={"HX-Request": "true"}).text
        return sorted(int(i) for i in re.findall(r'data-campaign="(\d+)"', page))

    assert found("") == sorted([march, repair])
    assert found(f"magasin={other_id}") == [repair]
    assert found("type=repair") == [repair]
    assert found("du=2026-03-02&au=2026-03-02") == sorted([march, repair])
    assert found("du=03/03/2026") == []
    staff = client_as("staff").get("/rapports/clotures").text
    assert f'data-campaign="{march}"' in staff and f'data-campaign="{repair}"' not in staff


def test_another_stores_report_is_not_found(app, client_as, users):
    with app.app_context():
        other = Store(code="002", name="Bayonne")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    theirs = add_report(app, other_id, "Theirs", [("delivered", {})])
    for role in ("staff", "manager"):
        client = client_as(role)
        assert client.get(f"/rapports/{theirs}").status_code == 404
        assert client.get(f"/rapports/{theirs}/export.csv").status_code == 404
        assert client.get(f"/rapports/{theirs}/export.xlsx").status_code == 404
    manager = client_as("manager")
    token = csrf_token(manager.get("/rapports/"))
    response = manager.post(f"/rapports/{theirs}/cloturer", data={"csrf_token": token})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Campaign, theirs).closed_at is None
    assert client_as("admin").get(f"/rapports/{theirs}").status_code == 200


def test_a_long_report_pages_and_keeps_its_filter(app, client_as, store, users):
    many = add_report(app, store.id, "Grosse campagne", [("failed", {"error": "x"})] * 60)
    manager = client_as("manager")
    page = manager.get(f"/rapports/{many}?etat=failed").text
    assert "Page 1 sur 2" in page
    # « Suivant » carries the filter, the last SMS shown and the page number.
    following = re.search(r'href="([^"]+)"[^>]*rel="next"', page).group(1).replace("&amp;", "&")
    assert following.startswith(f"/rapports/{many}?etat=failed&")
    second = manager.get(following).text
    assert second.count("<tr data-message=") == 10 and "Page 2 sur 2" in second
    shown = re.findall(r'<tr data-message="(\d+)"', page) + re.findall(
        r'<tr data-message="(\d+)"', second
    )
    assert len(set(shown)) == 60 and shown == sorted(shown, key=int)
    back = re.search(r'href="([^"]+)"[^>]*rel="prev"', second).group(1).replace("&amp;", "&")
    first = manager.get(back).text
    assert "Page 1 sur 2" in first and re.findall(r'<tr data-message="(\d+)"', first) == shown[:50]


def test_a_closed_report_takes_no_fiches_from_a_forged_post(app, client_as, report):
    client = client_as("manager")
    token = csrf_token(client.get(f"/rapports/{report}"))
    client.post(f"/rapports/{report}/cloturer", data={"csrf_token": token})
    again = client.post(f"/rapports/{report}/cloturer", data={"csrf_token": token, "fiches": "1"})
    assert again.status_code == 302
    assert "Ce rapport était déjà clôturé." in client.get("/rapports/").text
    with app.app_context():
        assert db.session.scalars(select(FollowupTask)).all() == []


def test_a_fiche_from_another_stores_sending_does_not_link_to_it(app, client_as, users, store):
    from shopsms.services.users import create_user
    from tests.conftest import PASSWORD, AuthActions

    with app.app_context():
        other = Store(code="002", name="Bayonne")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        create_user("vendeur.bayonne", PASSWORD, "staff", "002", "Paul Bayonne")
        from shopsms.models import Client

        theirs = Client(
            number="B1", last_name="FIXEBAYONNE", tel1="05 59 11 11 11", store_id=other_id
        )
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    # Biarritz texts a Bayonne client whose card holds a landline.
    landline = ("skipped", {"client_id": theirs_id, "skip_reason": "no_mobile"})
    sending = add_report(app, store.id, "Soldes Biarritz", [landline])
    manager = client_as("manager")
    token = csrf_token(manager.get(f"/rapports/{sending}"))
    manager.post(f"/rapports/{sending}/cloturer", data={"csrf_token": token, "fiches": "1"})
    bayonne = app.test_client()
    assert AuthActions(bayonne).login("vendeur.bayonne").status_code == 302
    tasks = bayonne.get("/rapports/fiches-a-corriger").text
    assert "FIXEBAYONNE" in tasks and "Soldes Biarritz" in tasks
    assert f"/rapports/{sending}" not in tasks  # their report is Biarritz's: a 404 for them
    admin = client_as("admin").get("/rapports/fiches-a-corriger").text
    assert f'href="/rapports/{sending}"' in admin


def test_a_date_not_understood_is_shown_back(client_as, users):
    page = client_as("manager").get("/rapports/clotures?du=31/02/2026").text
    assert "Date « 31/02/2026 » non reconnue : saisissez-la au format JJ/MM/AAAA." in page.replace(
        "&#34;", '"'
    )


def test_the_detail_lists_the_open_reports_rate_from_the_service(client_as, report):
    listing = client_as("manager").get("/rapports/").text
    # 1 delivered of the 3 that went out (one skipped): 33 %.
    assert 'data-rate="33"' in listing


def _rows_read_by_the_page(app, client, url):
    """Rows the full page reads through the session (each result counted, then replayed)."""
    read = []

    def count_rows(state):
        frozen = state.invoke_statement().freeze()
        read.append(len(frozen().all()))
        return frozen()

    with app.app_context():
        event.listen(db.session, "do_orm_execute", count_rows)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.session, "do_orm_execute", count_rows)
    return sum(read)


def test_the_report_page_does_not_read_its_failed_rows(app, client_as, store, make_client):
    """A manager's full page costs the same with 3 failures or 150: the « fiches à corriger »
    line that reads them loads apart, and still counts them all."""
    manager = client_as("manager")
    read = {}
    for failures in (3, 150):
        clients = [make_client(tel1="06 00 00 00 01") for _ in range(failures)]
        report = add_report(
            app,
            store.id,
            f"Échecs {failures}",
            [("delivered", {})] * 60
            + [
                ("failed", {"client_id": client, "error": "Numéro inexistant"})
                for client in clients
            ],
        )
        page = manager.get(f"/rapports/{report}").text
        assert 'name="fiches" value="1" checked' in page
        read[failures] = _rows_read_by_the_page(app, manager, f"/rapports/{report}")
        line = manager.get(f"/rapports/{report}/fiches", headers={"HX-Request": "true"}).text
        assert f"{failures} fiches pour Biarritz" in line
    assert read[3] == read[150]


def test_no_fiches_line_when_no_card_needs_correcting(app, client_as, store):
    report = add_report(app, store.id, "Absents", [("failed", {"error": "Téléphone éteint"})])
    manager = client_as("manager")
    assert 'name="fiches"' in manager.get(f"/rapports/{report}").text
    line = manager.get(f"/rapports/{report}/fiches", headers={"HX-Request": "true"}).text
    assert 'name="fiches"' not in line  # the choice goes away: nothing to correct


def test_staff_cannot_read_the_fiches_line(client_as, report):
    assert client_as("staff").get(f"/rapports/{report}/fiches").status_code == 403
