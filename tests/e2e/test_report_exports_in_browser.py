"""A head office's report of 20,000 SMS exported through the screens: the CSV downloads
as it is written, the Excel file is prepared by a job whose progress the page shows, and
both files open with every row."""

import csv
import re

import pytest
from openpyxl import load_workbook

from tests.conftest import PASSWORD
from tests.web.test_report_exports import add_campaign

pytestmark = pytest.mark.browser
ROWS = 20_000


@pytest.fixture
def big_report(app, users, store, make_client):
    client_id = make_client(first_name="Anne", last_name="MARTIN", tel1="06 11 22 33 44")
    rows = [
        {
            "client_id": client_id if n == 0 else None,
            "phone": f"+3361{n:07d}",
            "state": "failed" if n % 10 == 0 else "delivered",
            "error": "Numéro inexistant" if n % 10 == 0 else "",
            "text": f"Soldes n°{n} STOP 36608",
        }
        for n in range(ROWS)
    ]
    return add_campaign(app, store.id, rows)


def test_a_manager_exports_a_20k_report_as_csv_and_excel(
    live_server, page, big_report, worker, tmp_path
):
    page.goto(live_server + "/connexion")
    page.fill("#username", "gerant")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/")
    page.goto(f"{live_server}/rapports/{big_report}")

    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"rapport-{big_report}.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.reader(exported, delimiter=";"))
    assert len(rows) == ROWS + 1
    assert rows[1][1:3] == ["Anne MARTIN", "06 10 00 00 00"]
    assert rows[1][5:7] == ["Échec", "Numéro inexistant"]
    assert rows[-1][2:6] == ["06 10 01 99 99", "Soldes n°19999 STOP 36608", "1", "Délivré"]

    page.get_by_role("button", name="Export Excel").click()
    page.wait_for_url(re.compile(rf"/rapports/{big_report}/export/"))
    assert page.get_by_role("heading", name=f"Export Excel du rapport n° {big_report}").is_visible()
    link = page.get_by_role("button", name="Télécharger le fichier Excel")
    link.wait_for(timeout=120_000)  # the page polls the job's progress until the file is ready
    assert page.get_by_text(f"Fichier prêt : {ROWS} lignes.").is_visible()
    page.screenshot(path="/tmp/scale-read-export-ready.png")
    with page.expect_download(timeout=60_000) as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"rapport-{big_report}.xlsx"
    download.save_as(tmp_path / download.suggested_filename)
    sheet = load_workbook(tmp_path / download.suggested_filename, read_only=True).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert len(values) == ROWS + 1
    assert values[1][1:3] == ("Anne MARTIN", "06 10 00 00 00")
    assert values[-1][3] == "Soldes n°19999 STOP 36608"
