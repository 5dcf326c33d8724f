"""Head office imports the demo client file from a tablet: preview, F2 to launch, the
progress bar fills as a real worker runs the job, the reject file downloads."""

import csv
import io

import pytest

from shopsms.demo import STORES
from shopsms.extensions import db
from shopsms.models import Store
from shopsms.services.imports import demo_export
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
HEAD = "document.querySelector('[data-testid=import-preview] thead')"


@pytest.fixture
def chain(app, store):
    with app.app_context():
        for code, name, city, _ in STORES[1:]:
            db.session.add(Store(code=code, name=name, city=city))
        db.session.commit()


def test_head_office_imports_the_demo_file_and_downloads_the_rejects(
    live_server, page, users, chain, worker, tmp_path
):
    export = demo_export.write(tmp_path / "export", clients=30)
    page.goto(live_server + "/connexion")
    page.fill("#username", "siege")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/")
    page.get_by_role("link", name="Import").click()
    assert page.locator("h1").inner_text() == "Import du fichier clients"

    page.get_by_label("Type de fichier").select_option("clients")
    page.set_input_files("input[type=file]", export.files[0])
    page.wait_for_load_state("load")  # F2 is heard once app.js (deferred) runs
    page.keyboard.press("F2")
    page.wait_for_selector("[data-testid=import-preview]")
    preview = page.locator("[data-testid=import-preview]")
    assert preview.locator("tbody tr").count() == 10
    assert "POS-C000001" in preview.inner_text()
    # Changing a column refreshes the preview in place (htmx), without a reload; htmx
    # (deferred) must have run first, or the change goes unheard on a loaded machine.
    page.wait_for_load_state("load")
    page.locator("select[name=map-1]").select_option("")
    page.wait_for_function(f"() => !{HEAD}.innerText.includes('N° client')")
    page.locator("select[name=map-1]").select_option("number")
    page.wait_for_function(f"() => {HEAD}.innerText.includes('N° client')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024

    page.keyboard.press("F2")
    page.wait_for_selector("[data-testid=import-counts]")
    page.wait_for_selector(".import-status-done", timeout=30_000)
    counts = {
        key: page.locator(f"[data-count={key}]").inner_text()
        for key in ("read", "created", "updated", "unchanged", "rejected")
    }
    assert counts == {
        "read": "35",
        "created": "30",
        "updated": "0",
        "unchanged": "0",
        "rejected": "5",
    }
    assert page.locator("#import-progress").get_attribute("hx-trigger") is None
    assert page.locator("[data-testid=import-bar]").get_attribute("value") == "100"

    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger les lignes rejetées (CSV)").click()
    with open(info.value.path(), encoding="utf-8-sig") as file:
        text = file.read()
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [row[0] for row in rows[1:]] == ["32", "33", "34", "35", "36"]
    assert info.value.suggested_filename == "rejets-clients.csv"

    # The phone width shows the results without sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
