"""« Export CSV » and « Export Excel » at a chain's size: the CSV streams (PostgreSQL's
COPY writes it there, with the same cell rules), a large workbook is prepared by a job
with a progress bar, then downloaded by the person who asked for it only."""

import csv
import io
import os
import re
import subprocess
import sys
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from shopsms.config import PROJECT_ROOT
from shopsms.extensions import db
from shopsms.models import Campaign, Message, User
from shopsms.services import report_export


def csrf_token(text):
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    match = match or re.search(r'"X-CSRFToken": "([^"]+)"', text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def add_campaign(app, store_id, rows):
    """A finished sending whose messages are `rows` (dicts of Message columns)."""
    with app.app_context():
        author = db.session.scalar(select(User).where(User.username == "vendeur"))
        campaign = Campaign(
            kind="marketing",
            status="sent",
            name="Fête des mères",
            store_id=store_id,
            created_by_id=author.id,
            sender_id="BIJOUX",
            recipients_count=len(rows),
            body="Bonjour <PRENOM>",
            finished_at=datetime(2026, 5, 30, 9, 30),
        )
        db.session.add(campaign)
        db.session.flush()
        base = {
            "client_id": None,
            "phone": "",
            "text": "",
            "parts": 1,
            "skip_reason": "",
            "error": "",
            "gateway": "outbox",
            "submitted_at": None,
            "done_at": None,
        }
        for start in range(0, len(rows), 5000):
            db.session.execute(
                insert(Message),
                [base | {"campaign_id": campaign.id} | row for row in rows[start : start + 5000]],
            )
        db.session.commit()
        return campaign.id


def parse_csv(data):
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def hostile_report(app, users, store, make_client):
    formula = make_client(first_name='=HYPERLINK("x")', last_name="O'NEIL", tel1="0612345678")
    plain = make_client(first_name="", last_name="DUPONT", tel1="0611111111")
    return add_campaign(
        app,
        store.id,
        [
            {
                "client_id": formula,
                "phone": "+33612345678",
                "state": "delivered",
                "text": '=1+1 promo; "guillemets"\nligne 2',
                "parts": 2,
                "submitted_at": datetime(2026, 7, 1, 10, 0),
                "done_at": datetime(2026, 7, 1, 10, 1),
                "variant": "B",
            },
            {
                "client_id": plain,
                "phone": "+590690123456",
                "state": "failed",
                "text": "Bonjour",
                "error": "Numéro; inexistant",
                "submitted_at": datetime(2026, 1, 5, 23, 30),
            },
            {
                "client_id": plain,
                "state": "skipped",
                "skip_reason": "no_mobile",
                "text": "\x0cBonjour\x01",
                "parts": 0,
            },
            {"state": "pending", "phone": "+33700000000", "text": "-10 % sur tout"},
        ],
    )


def test_csv_export_writes_each_cell_as_a_person_reads_it(client_as, hostile_report):
    response = client_as("staff").get(f"/rapports/{hostile_report}/export.csv")
    assert response.status_code == 200
    rows = parse_csv(response.data)
    number = rows[1][0]
    assert rows[0] == list(report_export.EXPORT_HEADER)
    assert rows[1:] == [
        [number, "'=HYPERLINK(\"x\") O'NEIL", "06 12 34 56 78",
         "'=1+1 promo; \"guillemets\"\nligne 2", "2", "Délivré", "",
         "01/07/2026 12:00", "01/07/2026 12:01", "B"],
        [rows[2][0], "DUPONT", "'+590690123456", "Bonjour", "1", "Échec", "Numéro; inexistant",
         "06/01/2026 00:30", "", ""],
        [rows[3][0], "DUPONT", "", "Bonjour", "0", "Non envoyé",
         "Pas de numéro de portable (fixe, invalide ou vide)", "", "", ""],
        ["", "", "07 00 00 00 00", "'-10 % sur tout", "1", "En attente", "", "", "", ""],
    ]  # fmt: skip
    assert number and not number.startswith("'")


def test_csv_export_of_a_filter_has_only_its_rows(client_as, hostile_report):
    response = client_as("staff").get(f"/rapports/{hostile_report}/export.csv?etat=failed")
    assert response.headers["Content-Disposition"].endswith(f'rapport-{hostile_report}-failed.csv"')
    assert [row[5] for row in parse_csv(response.data)[1:]] == ["Échec"]


def test_csv_and_rows_agree_whatever_the_engine(app, hostile_report):
    """On PostgreSQL the CSV comes from COPY: it says what the Python rows say."""
    with app.app_context():
        streamed = parse_csv(b"".join(report_export.csv_chunks(hostile_report)))
        in_python = parse_csv(report_export.to_csv(report_export.export_rows(hostile_report)))
    assert streamed == in_python


def test_a_large_csv_is_streamed_not_built(app, client_as, users, store):
    rows = [
        {"state": "delivered", "phone": f"+3361{n:07d}", "text": f"SMS {n}"} for n in range(12_000)
    ]
    campaign_id = add_campaign(app, store.id, rows)
    response = client_as("staff").get(f"/rapports/{campaign_id}/export.csv")
    assert response.is_streamed
    lines = parse_csv(response.data)
    assert len(lines) == 12_001
    assert lines[-1][2:4] == ["06 10 01 19 99", "SMS 11999"]


def burst_worker(migrated, redis_url):
    env = dict(os.environ, DATABASE_URL=migrated, REDIS_URL=redis_url)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_large_excel_export_is_prepared_by_a_job_then_downloaded(
    app, client_as, store, migrated, redis_url, redis_client, monkeypatch
):
    monkeypatch.setattr(report_export, "EXCEL_DIRECT_ROWS", 3)
    rows = [{"state": "delivered", "phone": f"+3361{n:07d}", "text": f"=SMS {n}"} for n in range(5)]
    campaign_id = add_campaign(app, store.id, rows)
    staff = client_as("staff")
    page = staff.get(f"/rapports/{campaign_id}").text
    assert f'action="/rapports/{campaign_id}/export.xlsx"' in page  # a job, not a link
    # A direct GET of a large workbook does not build it in the request.
    assert staff.get(f"/rapports/{campaign_id}/export.xlsx").status_code == 302

    started = staff.post(
        f"/rapports/{campaign_id}/export.xlsx", data={"csrf_token": csrf_token(page), "etat": ""}
    )
    assert started.status_code == 302
    progress_url = started.headers["Location"]
    waiting = staff.get(progress_url).text
    assert "Préparation du fichier Excel : 0 lignes sur 5…" in waiting
    assert 'hx-trigger="every 1s"' in waiting

    burst_worker(migrated, redis_url)
    ready = staff.get(progress_url, headers={"HX-Request": "true"}).text
    assert "<html" not in ready and "every 1s" not in ready  # the polling stops
    assert "Fichier prêt : 5 lignes." in ready
    download = staff.get(progress_url + "/fichier")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith(f"rapport-{campaign_id}.xlsx")
    sheet = load_workbook(io.BytesIO(download.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 6
    assert values[5][2:4] == ["06 10 00 00 04", "'=SMS 4"]

    # Someone else, even in the same store, does not get that file.
    manager = client_as("manager")
    assert manager.get(progress_url + "/fichier").status_code == 404


def test_an_export_forgotten_by_the_queue_says_so_and_offers_to_start_again(
    app, client_as, store, redis_client
):
    campaign_id = add_campaign(app, store.id, [{"state": "delivered", "text": "x"}])
    page = client_as("staff").get(f"/rapports/{campaign_id}/export/inconnu").text
    assert "Cet export n'est plus disponible" in page and "Relancer l'export" in page


def test_the_detail_pages_by_keyset_through_every_state_both_ways(app, users, store):
    """Any filter, any depth: « Suivant » and « Précédent » walk the rows in list order,
    each page read from the (campaign, state, id) index, a state added later included."""
    from shopsms.services import reports

    states = ["delivered", "failed", "skipped", "pending", "expired", "delivered", "unacked"]
    campaign_id = add_campaign(
        app, store.id, [{"state": states[n % 7], "text": f"SMS {n}"} for n in range(40)]
    )
    with app.app_context():
        everyone = list(
            db.session.scalars(
                select(Message.id).where(Message.campaign_id == campaign_id).order_by(Message.id)
            )
        )
        failed = [
            m.id
            for m in db.session.scalars(select(Message).order_by(Message.id))
            if m.state in ("failed", "expired")
        ]
        for state, expected in (("", everyone), ("failed", failed)):
            pages, after, number = [], None, 1
            while True:
                page = reports.messages(
                    campaign_id,
                    state=state,
                    total=len(expected),
                    number=number,
                    after=after,
                    per_page=3,
                )
                pages.append([row.Message.id for row in page.rows])
                assert page.number == number and page.pages == -(-len(expected) // 3)
                if not page.has_next:
                    break
                after, number = page.next_after, number + 1
            assert [i for ids in pages for i in ids] == expected
            # And back from the last page to the first.
            before = pages[-1][0]
            for number in range(len(pages) - 1, 0, -1):
                page = reports.messages(
                    campaign_id,
                    state=state,
                    total=len(expected),
                    number=number,
                    before=before,
                    per_page=3,
                )
                assert [row.Message.id for row in page.rows] == pages[number - 1]
                before = page.rows[0].Message.id
            assert not page.has_previous


def test_an_export_asked_in_english_stays_a_french_document(app, client_as, users, store):
    """The screen says a skip for marketing pressure in the reader's language (issue 20);
    the export is a French document whoever asks for it, its day written by Babel."""
    from tests.conftest import csrf_token as page_token

    campaign_id = add_campaign(
        app, store.id, [{"state": "skipped", "skip_reason": "pressure:2:20260303", "parts": 0}]
    )
    staff = client_as("staff")
    staff.post("/langue/en", data={"csrf_token": page_token(staff.get("/"))})
    assert (
        "Marketing pressure: already 2 SMS since March 3"
        in staff.get(f"/rapports/{campaign_id}").text
    )
    response = staff.get(f"/rapports/{campaign_id}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(report_export.EXPORT_HEADER)
    assert rows[1][6] == "Pression marketing : déjà 2 SMS depuis le 3 mars"
