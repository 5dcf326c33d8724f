"""Head office opens a campaign's « Résultats » from its report and reads the verdict
and the chart, on a tablet and on a phone."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def sent(app):
    from tests.services.test_results import sent_campaign

    with app.app_context():
        return sent_campaign(
            1800, 200, texted_buyers=540, control_buyers=40, other_store_every=4
        ).id


def test_head_office_reads_a_campaigns_results(live_server, page, users, sent):
    page.goto(live_server + "/connexion")
    page.fill("#username", users["admin"].username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/")
    page.goto(f"{live_server}/rapports/{sent}")
    page.get_by_test_id("results-link").click()
    page.wait_for_url(f"{live_server}/resultats/{sent}")
    verdict = page.get_by_test_id("verdict")
    assert verdict.get_by_role("heading").inner_text() == "Effet positif probable"
    assert "+10,0 pt" in page.get_by_test_id("uplift-conversion").inner_text()
    chart = page.get_by_test_id("results-chart")
    assert chart.locator("svg title").text_content() == "Acheteurs cumulés par jour depuis l'envoi"
    assert chart.locator("polyline[data-series=texted]").is_visible()
    assert chart.locator("polyline[data-series=control]").is_visible()
    last_day = page.get_by_test_id("results-days").locator("tbody tr").last
    assert last_day.locator("th").inner_text() == "J+13"
    assert "540" in last_day.inner_text() and "40" in last_day.inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    assert verdict.is_visible()
    # Nothing wider than the phone but the tables' own scrolling boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
