"""Issue 19: every answer carries the security headers: a page, an htmx partial, an error
page, a redirect and the API; HSTS only when the site is served over HTTPS."""

import re
from pathlib import Path

import pytest

from shopsms.config import PROJECT_ROOT
from shopsms.web.headers import HSTS

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _assert_headers(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    policy = response.headers["Content-Security-Policy"]
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in policy.split(";"))
    )
    assert directives["script-src"] == "'self'"  # no inline script, no eval, no CDN
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in directives["default-src"] + directives["style-src"]


def test_headers_on_a_page_a_partial_an_error_and_a_redirect(client_as, client):
    staff = client_as("staff")
    _assert_headers(staff.get("/clients/"))
    partial = staff.get("/clients/?q=dupont", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    _assert_headers(partial)
    missing = staff.get("/clients/999999999")
    assert missing.status_code == 404
    _assert_headers(missing)
    _assert_headers(staff.get("/no-such-page"))
    _assert_headers(client.get("/clients/"))  # the redirect to the login page
    _assert_headers(client.get("/connexion"))
    _assert_headers(client.get("/api/v1/clients"))  # JSON 401


def test_no_hsts_on_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/connexion").headers


def test_hsts_when_served_over_https(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = app.test_client().get("/connexion", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == HSTS


INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:|hx-on[:-]|"
    r"hx-(?:vals|vars)=['\"]\s*(?:js|javascript):|hx-trigger=\"[^\"]*\[",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "template",
    sorted(str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "templates").rglob("*.html")),
)
def test_templates_hold_no_code_the_policy_would_block(template):
    # Inline scripts and handlers, javascript: links and htmx expressions (trigger
    # filters, js: values) are all refused by script-src 'self' without unsafe-eval.
    text = Path(PROJECT_ROOT / template).read_text()
    found = INLINE_CODE.findall(text)
    assert not found, found
