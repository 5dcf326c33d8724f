"""Issue 19: hostile input is normal input. Every route of the app (read from its url_map)
gets, in every form field and query argument found on its pages (read from the HTML, not
listed by hand), NUL bytes, integers past what a column holds (in Arabic-Indic digits
too), NaN and infinities, bidi controls, and texts longer than any column: the answer is
never a 500. Run on SQLite and on PostgreSQL (DATABASE_URL), where most of these failed."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import got_request_exception
from werkzeug.exceptions import HTTPException

from shopsms.extensions import db
from shopsms.models import Campaign, Message, Template
from shopsms.services import campaigns
from shopsms.services.campaigns import Recipient
from tests.conftest import csrf_token

HOSTILE = {
    "nul": "ab\x00cd",
    "controls": "a\x01\x1b[31m\x7fb",
    "int4+1": "2147483648",
    "arabic-indic": "\u0662\u0661\u0664\u0667\u0664\u0668\u0663\u0666\u0664\u0668",
    "huge": "9" * 40,
    "negative": "-2147483649",
    "nan": "NaN",
    "infinity": "-Infinity",
    "exponent": "1e400",
    "bidi": "\u202eevil\u200b\u2066x\u2069",
    "long": "é" * 3000,
    "line-break": "a\r\nb\nc",
    "bad-date": "31/02/2024",
}
SKIPPED = {  # they end the session the next requests need; their own tests cover them
    "auth.logout",
    "auth.sign_out_everywhere",
    "settings.end_sessions",
    "static",
}
# The API checks its own JSON: test_api_schemathesis.py runs schemathesis over it.
SKIPPED_BLUEPRINTS = {"api"}
# A POST route whose page showed no form still gets the names pages use most.
COMMON_FIELDS = ["q", "page", "text", "body", "phone", "amount", "name", "number"]


class _Forms(HTMLParser):
    """The forms of a page: (method, action, field names), and htmx elements' own names."""

    def __init__(self, page_url):
        super().__init__()
        self.page_url = page_url
        self.found = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            action = attrs.get("action") or self.page_url
            if attrs.get("hx-post"):
                method, action = "POST", attrs["hx-post"]
            elif attrs.get("hx-get"):
                method, action = "GET", attrs["hx-get"]
            self._form = (method, action, set())
            self.found.append(self._form)
            return
        name = attrs.get("name")
        for verb in ("get", "post"):
            if attrs.get(f"hx-{verb}"):
                fields = {name} if name else set()
                self.found.append((verb.upper(), attrs[f"hx-{verb}"], fields))
        if name and tag in ("input", "select", "textarea", "button") and self._form:
            self._form[2].add(name)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _objects(app, make_client):
    """One of each thing a page address names, so that those pages reach their parsing."""
    client_id = make_client(tel1="06 12 34 56 78")
    with app.app_context():
        campaign = campaigns.draft("single", body="Bonjour", recipients=[Recipient(client_id)])
        message_id = db.session.scalar(db.select(Message.id))
        template = Template(name="Modèle", body="Bonjour")
        db.session.add(template)
        db.session.commit()
        assert db.session.get(Campaign, campaign.id)
        return {
            "client_id": client_id,
            "campaign_id": campaign.id,
            "message_id": message_id,
            "template_id": template.id,
        }


def _url(adapter, rule, ids, override=None):
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        if override is not None and converter != "AnyConverter":
            values[name] = override
        elif converter == "AnyConverter":
            values[name] = "csv"
        elif "Integer" in converter:
            values[name] = ids.get(name, 1)
        else:
            values[name] = "+33612345678"
    return adapter.build(rule.endpoint, values, force_external=False)


def _discover(app, browser, ids):
    """Fields per endpoint, from every page a person of this role can open."""
    adapter = app.url_map.bind("localhost")
    fields = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        if rule.endpoint.split(".")[0] in SKIPPED_BLUEPRINTS | {"hooks"}:
            continue
        url = _url(adapter, rule, ids)
        response = browser.get(url, buffered=True)  # a streamed export is read, and closed
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        parser = _Forms(url)
        parser.feed(response.text)
        for method, action, names in parser.found:
            path = urlsplit(action).path or url
            try:
                endpoint, _ = adapter.match(path, method=method)
            except HTTPException:
                continue
            fields.setdefault((endpoint, method), set()).update(names)
    return fields


def _hostile_requests(app, browser, fields, ids):
    adapter = app.url_map.bind("localhost")
    token = csrf_token(browser.get("/"))
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.endpoint.split(".")[0] in SKIPPED_BLUEPRINTS:
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            names = set(fields.get((rule.endpoint, method), ()))
            if method == "POST" and not names:
                names = set(COMMON_FIELDS)
            names -= {"csrf_token"}
            url = _url(adapter, rule, ids)
            for label, value in HOSTILE.items():
                data = {name: value for name in names}
                yield label, method, url, data, token
            # Each field alone too: a form that stops at its first error hides the others.
            for name in sorted(names):
                for label in ("int4+1", "long"):
                    yield f"{label} in {name}", method, url, {name: HOSTILE[label]}, token
            for label in ("int4+1", "huge", "nul"):  # in the address itself
                if rule.arguments:
                    try:
                        bad = _url(adapter, rule, ids, override=HOSTILE[label])
                    except Exception:  # noqa: BLE001  (a converter that refuses it)
                        bad = re.sub(r"/\d+(/|$)", f"/{HOSTILE[label]}\\1", url, count=1)
                    yield f"{label} in the address", method, bad, {}, token


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_no_input_makes_a_500(app, client_as, make_client, credits_available, role):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is answered as a person would see it
    errors = []
    got_request_exception.connect(
        lambda sender, exception, **_: errors.append(exception), app, weak=False
    )
    credits_available(50)
    ids = _objects(app, make_client)
    browser = client_as(role)
    fields = _discover(app, browser, ids)
    assert len(fields) >= 20, sorted(fields)  # the crawl found the app's forms
    failures, sent = [], 0
    for label, method, url, data, token in _hostile_requests(app, browser, fields, ids):
        if method == "GET":
            response = browser.get(url, query_string=data, buffered=True)
        else:
            response = browser.post(url, data=dict(data, csrf_token=token), buffered=True)
        sent += 1
        degraded = response.status_code == 503 and url == "/sante"  # the probe's own answer
        if response.status_code >= 500 and not degraded:
            cause = repr(errors[-1])[:160] if errors else ""
            failures.append(f"{method} {url} [{label}] → {response.status_code} {cause}")
        if response.status_code == 302 and "/connexion" in (response.location or ""):
            browser = client_as(role)  # a route that logged out: log in again
            token = csrf_token(browser.get("/"))
    assert sent > 500
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:60])


def test_an_inbound_sms_with_a_nul_byte_is_heard_not_a_500(app, client, make_client):
    make_client(tel1="06 12 34 56 78")
    answer = client.get(
        "/hooks/kannel/mo",
        query_string={
            "secret": app.config["HOOKS_SECRET"],
            "from": "+33612345678\x00",
            "to": "36608\u202e",
            "text": "ST\x00OP\u200b",
        },
    )
    assert answer.status_code == 200
    assert answer.text == "Vous ne recevrez plus de SMS publicitaires."  # STOP understood
