"""Staff at a 10-inch tablet: log in with the keyboard and see the home page in French."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_staff_logs_in_and_sees_the_home_page_in_french(live_server, page, users):
    page.goto(live_server + "/")
    assert page.url.endswith("/connexion?next=/")
    assert page.locator("#flashes .flash").count() == 0  # opening the site is not an error
    assert page.locator("h1").inner_text() == "Connexion"
    page.fill("#username", "vendeur")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")  # F2 validates, as in the products it replaces
    page.wait_for_url(live_server + "/")
    assert page.locator("h1").inner_text() == "Bonjour Sabine Vendeuse"
    assert page.get_by_text("Crédits SMS restants").is_visible()
    assert page.get_by_text("Rapports d'envoi à clôturer").is_visible()
    assert page.get_by_text("Aucun envoi différé prévu.").is_visible()
    assert page.locator("html").get_attribute("lang") == "fr"
    # Nothing overflows sideways at tablet width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024


def test_wrong_password_keeps_the_username_and_says_why(live_server, page, users):
    page.goto(live_server + "/connexion")
    page.fill("#username", "vendeur")
    page.fill("#password", "pas-le-bon")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_text("Identifiant ou mot de passe incorrect.").is_visible()
    assert page.input_value("#username") == "vendeur"


def test_htmx_refresh_keeps_the_page_working(live_server, page, users):
    """The home summary refreshes through htmx with the CSRF header and no error banner."""
    page.goto(live_server + "/connexion")
    page.fill("#username", "vendeur")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as info:
        page.evaluate("htmx.trigger('#summary', 'every')")  # what the 60 s timer fires
        page.evaluate("htmx.ajax('GET', '/', {target: '#summary', swap: 'outerHTML'})")
    assert info.value.status == 200
    assert page.locator("#summary").count() == 1
    assert page.locator("#htmx-error").is_hidden()
