"""Issue 19: after logging in, `next` leads to a page of this site and nowhere else."""

import pytest

from tests.conftest import PASSWORD, csrf_token

# Known ways of writing "another site" so that a naive check reads a local path.
BYPASSES = [
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/%09/evil.example",  # the find: the browser drops the tab → //evil.example
    "/\t/evil.example",
    "/%0A/evil.example",
    "/%0D/evil.example",
    "/\n/evil.example",
    "/%00/evil.example",
    "/%20/evil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "\\\\evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%252F/evil.example",  # decoded twice
    "/%25252F/evil.example",
    "https://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " //evil.example",
    "\x0b//evil.example",
    "/\u3000/evil.example",
    "/\uff0fevil.example",  # fullwidth solidus: NFKC reads "//"
    "\uff0f\uff0fevil.example",
    "/\u2028/evil.example",
    "evil.example",
    "",
]

LOCAL = ["/clients/", "/clients/?q=Dupont&page=2", "/campagnes/12", "/clients/?q=H%C3%A9l%C3%A8ne"]


def _login(client, next_value):
    page = client.get("/connexion")
    data = {"username": "vendeur", "password": PASSWORD, "csrf_token": csrf_token(page)}
    return client.post("/connexion", query_string={"next": next_value}, data=data)


@pytest.mark.parametrize("target", BYPASSES)
def test_login_never_sends_elsewhere(client, users, target):
    response = _login(client, target)
    assert response.status_code == 302
    assert response.location == "/", f"{target!r} → {response.location!r}"


@pytest.mark.parametrize("target", LOCAL)
def test_login_returns_to_the_page_asked(client, users, target):
    response = _login(client, target)
    assert response.location == target


def test_language_switch_does_not_bounce_back_to_another_site(client, users):
    page = client.get("/connexion")
    response = client.post(
        "/langue/en",
        data={"csrf_token": csrf_token(page)},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert "evil" not in response.location
