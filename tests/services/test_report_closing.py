"""Reports without a request: closing rules, « Tout clôturer » scope, fiches à corriger,
exports."""

import io
from datetime import datetime

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message, Store, User
from shopsms.models.followup import FollowupTask
from shopsms.services import followups, report_export, reports

pytestmark = pytest.mark.usefixtures("ctx")


def person(role, store_id=None):
    user = User(username=f"{role}{store_id}", role=role, store_id=store_id, password_hash="x")
    db.session.add(user)
    db.session.commit()
    return user


def sending(store_id, states, *, finished=True):
    campaign = Campaign(
        kind="marketing",
        status="sent" if finished else "sending",
        store_id=store_id,
        recipients_count=len(states),
        finished_at=datetime(2026, 3, 2) if finished else None,
    )
    db.session.add(campaign)
    db.session.flush()
    for state, fields in states:
        db.session.add(Message(campaign_id=campaign.id, state=state, parts=1, **fields))
    db.session.commit()
    return campaign.id


@pytest.fixture
def shops():
    a, b = Store(code="001", name="Biarritz"), Store(code="002", name="Bayonne")
    db.session.add_all([a, b])
    db.session.commit()
    return a.id, b.id


def card(store_id, tel1, number):
    client = Client(number=number, last_name=number, tel1=tel1, store_id=store_id)
    db.session.add(client)
    db.session.commit()
    return client.id


def test_an_unfinished_sending_cannot_be_closed(shops):
    manager = person("manager", shops[0])
    running = sending(shops[0], [("pending", {})], finished=False)
    with pytest.raises(reports.ReportError, match="pas terminé"):
        reports.close(manager, running)


def test_close_all_stays_in_the_managers_store(shops):
    manager = person("manager", shops[0])
    mine, theirs = sending(shops[0], [("delivered", {})]), sending(shops[1], [("delivered", {})])
    assert reports.close_all(manager) == 1
    assert db.session.get(Campaign, mine).closed_at is not None
    assert db.session.get(Campaign, theirs).closed_at is None
    assert reports.close_all(person("admin")) == 1


def test_close_all_is_audited_with_the_managers_store(shops):
    from shopsms.models import AuditEntry

    manager = person("manager", shops[0])
    sending(shops[0], [("delivered", {})])
    reports.close_all(manager)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.close_all"))
    assert entry.store_id == shops[0]


def test_closing_twice_says_so_without_error(shops):
    manager = person("manager", shops[0])
    campaign = sending(shops[0], [("delivered", {})])
    assert reports.close(manager, campaign) is True
    assert reports.close(manager, campaign) is False


def test_fiches_a_corriger_go_to_the_store_that_created_the_client(shops):
    biarritz, bayonne = shops
    landline = card(bayonne, "05 59 00 00 00", "C1")  # a Bayonne client, texted by Biarritz
    unknown = card(biarritz, "06 00 00 00 01", "C2")
    fine = card(biarritz, "06 11 22 33 44", "C3")
    no_consent = card(biarritz, "06 11 22 33 45", "C4")
    campaign = sending(
        biarritz,
        [
            ("skipped", {"client_id": landline, "skip_reason": "no_mobile"}),
            ("failed", {"client_id": unknown, "error": "Numéro inexistant"}),
            ("delivered", {"client_id": fine}),
            ("skipped", {"client_id": no_consent, "skip_reason": "no_consent"}),
        ],
    )
    assert followups.correctable(campaign) == {bayonne: 1, biarritz: 1}
    manager = person("manager", biarritz)
    assert followups.create_followups(manager, campaign) == 2
    assert followups.create_followups(manager, campaign) == 0  # never twice
    tasks = {t.client_id: t for t in db.session.scalars(select(FollowupTask))}
    assert tasks[landline].store_id == bayonne and tasks[landline].phone == "05 59 00 00 00"
    assert tasks[unknown].reason == "Échec : Numéro inexistant"
    # Bayonne's staff see their task, Biarritz's do not see it.
    assert followups.followups(person("staff", bayonne)).total == 1
    assert [r.FollowupTask.client_id for r in followups.followups(manager).rows] == [unknown]
    with pytest.raises(reports.ReportError):
        followups.mark_done(manager, tasks[landline].id)


def test_only_a_wrong_number_makes_a_fiche(shops):
    biarritz, _ = shops
    absent = card(biarritz, "06 11 22 33 46", "C5")
    off = card(biarritz, "06 11 22 33 47", "C6")
    invalid = card(biarritz, "06 11 22 33 48", "C7")
    campaign = sending(biarritz, [
        ("failed", {"client_id": absent, "error": "Abonné absent"}),
        ("expired", {"client_id": off, "error": "Téléphone injoignable"}),
        ("failed", {"client_id": invalid, "error": "Refusé par l'opérateur : numéro de "
                                                    "destination invalide (ESME_RINVDSTADR)."}),
    ])  # fmt: skip
    assert followups.correctable(campaign) == {biarritz: 1}
    assert followups.create_followups(person("manager", biarritz), campaign) == 1
    assert list(db.session.scalars(select(FollowupTask.client_id))) == [invalid]


def test_a_card_with_an_open_fiche_is_not_listed_again(shops):
    biarritz, _ = shops
    manager = person("manager", biarritz)
    landline = card(biarritz, "05 59 00 00 01", "C8")
    first = sending(biarritz, [("skipped", {"client_id": landline, "skip_reason": "no_mobile"})])
    second = sending(biarritz, [("skipped", {"client_id": landline, "skip_reason": "no_mobile"})])
    assert followups.create_followups(manager, first) == 1
    assert followups.create_followups(manager, second) == 0
    task = db.session.scalar(select(FollowupTask))
    followups.mark_done(manager, task.id)
    # Corrected, then still wrong at the next sending: a new fiche.
    assert followups.create_followups(manager, second) == 1


def test_csv_and_excel_exports_carry_the_same_rows(shops):
    campaign = sending(
        shops[0],
        [
            (
                "failed",
                {"phone": "+33600000001", "text": "Été : -20 %", "error": "Numéro inexistant"},
            )
        ],
    )
    rows = list(report_export.export_rows(campaign))
    data = report_export.to_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    assert "06 00 00 00 01;Été : -20 %;1;Échec;Numéro inexistant" in data.decode("utf-8")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(report_export.to_xlsx(rows))).active
    assert [c.value for c in sheet[2]][2:7] == [
        "06 00 00 00 01",
        "Été : -20 %",
        1,
        "Échec",
        "Numéro inexistant",
    ]


def _exports(campaign):
    from openpyxl import load_workbook

    csv_text = report_export.to_csv(report_export.export_rows(campaign)).decode("utf-8-sig")
    xlsx = report_export.to_xlsx(report_export.export_rows(campaign))
    return csv_text, load_workbook(io.BytesIO(xlsx)).active


def test_exports_never_hold_a_formula(shops):
    biarritz, _ = shops
    client = Client(
        number='=HYPERLINK("x")', last_name="@SUM(A1)", first_name="+1", store_id=biarritz
    )
    db.session.add(client)
    db.session.commit()
    campaign = sending(
        biarritz,
        [("delivered", {"client_id": client.id, "phone": "+33611223344", "text": "=1+1 promo"})],
    )
    csv_text, sheet = _exports(campaign)
    import csv

    line = list(csv.reader(io.StringIO(csv_text), delimiter=";"))[1]
    assert line[:4] == ['\'=HYPERLINK("x")', "'+1 @SUM(A1)", "06 11 22 33 44", "'=1+1 promo"]
    cells = [cell for cell in sheet[2]]
    assert all(cell.data_type != "f" for cell in cells)
    assert cells[3].value == "'=1+1 promo"


def test_excel_export_drops_control_characters_and_writes_real_dates(shops):
    fields = {
        "phone": "+33611223344",
        "text": "A\x0cB",
        "submitted_at": datetime(2026, 7, 1, 8, 30),
    }
    campaign = sending(shops[0], [("delivered", fields)])
    csv_text, sheet = _exports(campaign)
    row = [cell.value for cell in sheet[2]]
    assert row[3] == "AB"
    # 08:30 UTC in July is 10:30 in Paris, stored as a date the spreadsheet can sort.
    assert row[7] == datetime(2026, 7, 1, 10, 30)
    assert sheet[2][7].number_format == "DD/MM/YYYY HH:MM"
    assert "01/07/2026 10:30" in csv_text
