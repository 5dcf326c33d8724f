"""Issue 20: the whole UI in the person's language. Head office, a manager and a
salesperson switch to English on the demo chain and open every page they can reach (the
app's GET routes, then every link and htmx address those pages hold, with real ids): no
French is left outside client data. French is told by its accents and its small words
(« le », « des », « envoi »…); client data (names, cities, message texts, store names,
what people typed) is taken out of the page first, read from the database."""

import re
import uuid
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from shopsms import demo, selection
from shopsms.extensions import db
from shopsms.models import (
    Brand,
    Campaign,
    Client,
    CreditEntry,
    InboundMessage,
    Message,
    OutboxMessage,
    RepairTicket,
    Setting,
    Store,
    Template,
    User,
    Workshop,
)
from shopsms.models.automatic import AutomaticSend
from shopsms.models.consent import ConsentChange
from shopsms.models.integration import ApiToken, ImportRun
from shopsms.models.selection import SavedSelection
from shopsms.services import settings
from tests.conftest import AuthActions, csrf_token, run_preparation
from tests.web.security.test_hostile_input import _discover, _url

# What people typed or imported, shown as it is whatever the language.
DATA_COLUMNS = {
    Client: None,  # every text column of the card
    Store: ("name", "city"),
    Brand: ("name",),
    Workshop: ("name",),
    User: ("username", "full_name"),
    Template: ("name", "body"),
    SavedSelection: ("name",),
    CreditEntry: ("reference",),
    ConsentChange: ("note",),
    Campaign: ("name", "body", "body_b", "sender_id"),
    Message: ("text",),
    OutboxMessage: ("text",),
    InboundMessage: ("text",),
    ImportRun: ("filename",),
    RepairTicket: ("item_description", "work_description", "interventions", "workshop_comment"),
    ApiToken: ("name",),
    AutomaticSend: ("body",),
}
ACCENTS = re.compile(r"[àâçéèêëîïôûùüÿœæÀÂÇÉÈÊËÎÏÔÛÙÜŸŒÆ«»]")
WORDS = re.compile(
    r"\b(le|la|les|des|du|une|est|sont|pas|avec|pour|sur|dans|aucune?|ou|et|au|aux|"
    r"envois?|magasins?|fiches?|campagnes?|rapports?|paramètres|enregistrer|annuler|"
    r"rechercher|oui|tous|toutes|nouveau|nouvelle|modifier|supprimer|jours?|heures?|mois|"
    r"ce|cette|ces|vos|votre|nos|notre)\b",
    re.IGNORECASE,
)
SKIPPED_PATHS = ("/deconnexion", "/static/", "/langue/", "/api/", "/hooks/", "/sante")
PER_ENDPOINT = 4  # addresses opened per endpoint (the first ones found)
ROLES = ["siege", "gerant.biarritz", "vendeur.biarritz"]
# Forms not sent: they end the session, change the language or log in.
NOT_POSTED = {
    "auth.logout",
    "auth.sign_out_everywhere",
    "settings.end_sessions",
    "i18n.switch",
    "auth.login",
}
# What each field of a form gets: nothing, a word, a negative number.
MISTYPED = ("", "x", "-1")


class _Page(HTMLParser):
    """The text a person reads (and hears: title, aria-label, placeholder, alt), and the
    addresses the page leads to (links, htmx)."""

    QUIET = {"script", "style", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self.links, self._stack = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        void = tag in ("input", "br", "img", "meta", "link", "hr", "source", "wbr")
        quiet = bool(self._stack and self._stack[-1]) or tag in self.QUIET
        quiet = quiet or (attrs.get("lang") or "").startswith("fr")  # « Français »
        quiet = quiet or attrs.get("translate") == "no"  # an SMS text as it will leave
        if not void:
            self._stack.append(quiet)
        if not quiet:
            for name in ("title", "aria-label", "placeholder", "alt"):
                if attrs.get(name):
                    self.texts.append(attrs[name])
        for name in ("href", "hx-get"):
            if attrs.get(name):
                self.links.append((attrs[name], name == "hx-get"))

    def handle_endtag(self, tag):
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if data.strip() and not (self._stack and self._stack[-1]):
            self.texts.append(data)


def _data_strings():
    found = set()
    for model, names in DATA_COLUMNS.items():
        columns = [
            column
            for column in model.__table__.columns
            if isinstance(column.type, (sa.String, sa.Text))
            and (names is None or column.key in names)
        ]
        for column in columns:
            for value in db.session.scalars(sa.select(column).distinct()):
                if value and len(value.strip()) > 1:
                    found.add(value.strip())
                    found.update(line.strip() for line in value.splitlines() if line.strip())
    # The stores' SMS texts (settings), as typed or by default.
    for value in [*settings.DEFAULTS.values(), *db.session.scalars(sa.select(Setting.value))]:
        if isinstance(value, str) and len(value.strip()) > 1:
            found.add(value.strip())
            found.update(line.strip() for line in value.splitlines() if line.strip())
    # A name shown in capitals or in proper case (« M. JEAN DUPONT », « Dupont »).
    found |= {value.upper() for value in found} | {value.title() for value in found}
    return sorted(found, key=len, reverse=True)


def _french(text, data):
    text = " ".join(text.split())
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    text = text.strip()
    cut = text.removesuffix("...").removesuffix("…").strip()
    if cut != text and any(value.startswith(cut) for value in data):
        return None  # the start of a text of client data (« Bonjour <NOM>, votre… »)
    if ACCENTS.search(text) or WORDS.search(text):
        return text
    return None


def _english_client(app, username):
    client = app.test_client()
    assert AuthActions(client).login(username, demo.DEMO_PASSWORD).status_code == 302
    token = csrf_token(client.get("/"))
    client.post("/langue/en", data={"csrf_token": token}, headers={"Referer": "/"})
    assert '<html lang="en"' in client.get("/").text
    return client


def _crawl(app, client):
    """Every page and partial reached from the app's routes: (address, French found)."""
    adapter = app.url_map.bind("localhost")
    queue = [
        (rule.rule, False)
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments
    ]
    seen, per_endpoint, opened, leftovers = set(), defaultdict(int), 0, []
    with app.app_context():
        data = _data_strings()
    while queue:
        url, partial = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "localhost" or parts.scheme not in ("", "http"):
            continue
        path = parts.path or "/"
        if path.startswith(SKIPPED_PATHS) or not path.startswith("/"):
            continue
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except Exception:  # noqa: BLE001  (a form target, an address for POST only)
            continue
        if (path, parts.query, partial) in seen or per_endpoint[endpoint] >= PER_ENDPOINT:
            continue
        seen.add((path, parts.query, partial))
        per_endpoint[endpoint] += 1
        headers = {"HX-Request": "true"} if partial else {}
        response = client.get(url, headers=headers, buffered=True)
        opened += 1
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        page = _Page()
        page.feed(response.text)
        for text in page.texts:
            french = _french(text, data)
            if french:
                leftovers.append(f"{url}{' (htmx)' if partial else ''}: {french[:120]}")
        queue.extend(page.links)
    return opened, per_endpoint, leftovers


@pytest.fixture
def demo_chain(app, redis_client):
    with app.app_context():
        demo.seed(clients=60, seed=20)
        _gateway_words()


def _gateway_words():
    """What the gateways say, as they say it (their French words, kept so): the first
    message of each sending failed with an operator's reason, and links are down on the
    supervision page."""
    import smpplib.consts as consts
    import smpplib.exceptions

    from shopsms.gateways import kannel, outbox, smpp
    from shopsms.services import delivery, link_status
    from shopsms.sms.said import N_

    reasons = [
        smpp.refusal_reason(consts.SMPP_ESME_RINVSRCADR),
        N_(delivery.PART_FAILED, seq=1, total=2, error=smpp.Receipt("r", "EXPIRED").report().error),
        outbox.outcome("+33600000001")[1],
        kannel.dlr_error(2, "NACK"),
        N_(delivery.NO_RECEIPT_ERROR, hours=48),
    ]
    firsts = db.session.scalars(sa.select(sa.func.min(Message.id)).group_by(Message.campaign_id))
    for n, message_id in enumerate(firsts):
        db.session.execute(
            sa.update(Message)
            .where(Message.id == message_id)
            .values(state="failed", error=str(reasons[n % len(reasons)]))
        )
    db.session.commit()
    settings_ = smpp.LinkSettings("smsc.example.com", 2775, "shopsms", "secret")
    refused = smpp.bind_refusal(
        smpplib.exceptions.PDUError("bind", consts.SMPP_ESME_RINVSYSID), settings_
    )
    process = f"demo:{uuid.uuid4().hex}"  # each reading is written once in 30 s
    link_status.record("smpp:transmitter", False, refused, process=process)
    away = smpp.bind_refusal(ConnectionRefusedError(), settings_)
    receiver = N_(smpp._RECEIVER_UNBOUND, reason=away)
    link_status.record("smpp:receiver", False, receiver, process=process)


@pytest.mark.parametrize("username", ROLES)
def test_every_page_in_english_has_no_french_outside_client_data(app, demo_chain, username):
    client = _english_client(app, username)
    opened, endpoints, leftovers = _crawl(app, client)
    assert opened > 40 and len(endpoints) > 30, (opened, sorted(endpoints))  # it went everywhere
    unique = sorted(set(leftovers))
    assert not unique, f"{len(unique)} French texts on English pages:\n" + "\n".join(unique)


def _ids():
    """One of each thing a form's address names, of the Biarritz store (everyone's here)."""
    store = db.session.scalar(sa.select(Store.id).where(Store.code == "001"))
    first = {
        "campaign_id": sa.select(Campaign.id).where(Campaign.store_id == store),
        "client_id": sa.select(Client.id).where(Client.store_id == store),
        "ticket_id": sa.select(RepairTicket.id).where(RepairTicket.store_id == store),
        "template_id": sa.select(Template.id),
    }
    ids = {name: db.session.scalar(query.order_by("id").limit(1)) for name, query in first.items()}
    ids["message_id"] = db.session.scalar(
        sa.select(Message.id).where(Message.campaign_id == ids["campaign_id"]).limit(1)
    )
    return ids


@pytest.mark.parametrize("username", ["siege", "vendeur.biarritz"])
def test_every_form_mistyped_in_english_answers_in_english(app, demo_chain, username):
    """The services' and the forms' messages: every form the pages hold, posted empty, with
    a word, with a negative number; the answer (after its redirect) has no French."""
    with app.app_context():
        ids = _ids()
    client = _english_client(app, username)
    fields = _discover(app, client, ids)
    adapter = app.url_map.bind("localhost")
    token, leftovers, posted = csrf_token(client.get("/")), [], 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in NOT_POSTED:
            continue
        if rule.endpoint.split(".")[0] in ("api", "hooks") or (rule.endpoint, "POST") not in fields:
            continue
        names = fields[(rule.endpoint, "POST")] - {"csrf_token"}
        for value in MISTYPED:
            form = {name: value for name in names} | {"csrf_token": token}
            response = client.post(_url(adapter, rule, ids), data=form, buffered=True)
            posted += 1
            if response.status_code in (302, 303):
                response = client.get(response.location, buffered=True)
            if "html" not in (response.content_type or ""):
                continue
            with app.app_context():
                data = _data_strings()  # the form may have made some (« SMS à … »)
            page = _Page()
            page.feed(response.text)
            found = filter(None, (_french(text, data) for text in page.texts))
            leftovers += [f"{rule.endpoint} [{value!r}]: {french[:120]}" for french in found]
    assert posted > 40, posted  # the forms found (17 or more, 3 times each)
    unique = sorted(set(leftovers))
    assert not unique, f"{len(unique)} French texts in English answers:\n" + "\n".join(unique)


def test_the_heuristics_see_french_and_let_client_data_through():
    data = ["Hélène Dupré", "Biarritz"]
    assert _french("Envoi prévu le 12/03", data)
    assert _french("Aucun client", data)
    assert _french("Client Hélène Dupré, Biarritz store", data) is None
    assert _french("3 SMS sent on 12/7/26, 2:30 PM", data) is None


def test_a_campaigns_note_written_by_a_job_is_said_in_the_readers_language(app, demo_chain):
    """A note is written where nobody reads it (a worker, the preparation job): held
    outside sending hours, held for the gateway's link, refused for want of credits.
    Each is said in English to a reader who chose English, in French to the others."""
    from datetime import datetime

    from shopsms.gateways import GatewayUnavailable
    from shopsms.services import campaigns, credits, recipients, sending
    from shopsms.services.campaigns import Recipient

    saturday_night = datetime(2026, 11, 28, 20, 30)  # 21:30 in Paris
    with app.app_context():
        store = db.session.scalar(sa.select(Store.id).where(Store.code == "001"))
        client_id = db.session.scalar(
            sa.select(Client.id).where(Client.store_id == store).order_by(Client.id).limit(1)
        )
        credits.top_up(10, reference="test")

        def draft():
            return campaigns.draft(
                "marketing",
                body="Bonjour",
                recipients=[Recipient(client_id=client_id)],
                store_id=store,
            ).id

        held = draft()
        campaigns.queue_now(held, now=saturday_night, accept_next_window=True)
        linked = draft()
        campaigns.queue_now(linked, now=datetime(2026, 11, 24, 10, 0))
        campaign = db.session.get(Campaign, linked)
        sending._hold_for_link(
            campaign,
            sending.get_gateway(),
            GatewayUnavailable("Connexion refusée"),
            datetime(2026, 11, 24, 10, 0),
        )
        # « Envoyer » on a draft of the store's clients, with credits enough at the click;
        # spent elsewhere before its preparation runs.
        admin = db.session.scalar(sa.select(User).where(User.username == "siege"))
        refused = recipients.draft_from_selection(
            admin, selection.Criteria(created_store_id=store)
        ).id
        recipients.compose(admin, refused, "Bonjour", "BIJOUX")
        credits.top_up(10_000, reference="test")
        recipients.send(admin, refused, "Bonjour", "BIJOUX", accept_next=True)
        db.session.execute(sa.delete(CreditEntry))
        db.session.commit()
    run_preparation(app, refused)
    with app.app_context():
        assert db.session.get(Campaign, refused).status == "draft"
    english = _english_client(app, "siege")
    page = english.get("/campagnes/").text
    assert "Waiting for sending hours: leaves on 11/30/26, 8:00" in page
    assert "Connexion refusée: sending will resume by itself once the connection is back." in page
    assert "Not enough credits" in english.get(f"/campagnes/{refused}").text
    french = app.test_client()  # the same person, back to French (her choice is kept)
    AuthActions(french).login("siege", demo.DEMO_PASSWORD)
    token = csrf_token(french.get("/"))
    french.post("/langue/fr", data={"csrf_token": token}, headers={"Referer": "/"})
    assert (
        "En attente des heures d&#39;envoi : départ le 30/11/2026 08:00."
        in french.get("/campagnes/").text
    )
