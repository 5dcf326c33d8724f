import pytest

from shopsms import demo
from shopsms.extensions import db
from shopsms.models import Campaign, Store


@pytest.fixture
def demo_chain(app):
    with app.app_context():
        demo.seed(clients=150, seed=7)


@pytest.mark.parametrize("username", ["vendeur.biarritz", "gerant.pau", "siege"])
def test_no_page_answers_500_for_any_role(app, demo_chain, username):
    client = app.test_client()
    from tests.conftest import AuthActions

    assert AuthActions(client).login(username, demo.DEMO_PASSWORD).status_code == 302
    crawled = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(rule.rule, headers=headers)
            if rule.endpoint == "health.sante" and response.status_code == 503:
                # The health probe's own answer (no worker beats in this test), not an error.
                assert response.json["status"] == "degraded"
                continue
            assert response.status_code < 500, (rule.rule, headers, response.text[:500])
        crawled.append(rule.rule)
    assert "/" in crawled


def test_home_shows_real_numbers_scoped_to_the_store(app, demo_chain):
    from shopsms.models import utcnow

    with app.app_context():
        biarritz, pau = (
            db.session.query(Store).filter_by(code=code).one() for code in ("001", "003")
        )
        for store in (biarritz, pau):
            db.session.add(
                Campaign(
                    kind="marketing",
                    status="scheduled",
                    store_id=store.id,
                    name=f"Soldes {store.name}",
                    scheduled_at=utcnow(),
                )
            )
        db.session.add(
            Campaign(kind="marketing", status="sent", store_id=pau.id, finished_at=utcnow())
        )
        db.session.commit()

    from tests.conftest import AuthActions

    staff = app.test_client()
    AuthActions(staff).login("vendeur.biarritz", demo.DEMO_PASSWORD)
    page = staff.get("/").text
    assert "Soldes Biarritz" in page and "Soldes Pau" not in page
    assert 'data-testid="reports-to-close">0<' in page
    with app.app_context():
        from shopsms.services import credits

        left = credits.balance()  # the demo's 10,000 less its past campaigns' SMS
    assert 0 < left < 10_000
    assert f'data-testid="credits-left">{left:,}<'.replace(",", " ") in page

    head_office = app.test_client()
    AuthActions(head_office).login("siege", demo.DEMO_PASSWORD)
    page = head_office.get("/").text
    assert "Soldes Biarritz" in page and "Soldes Pau" in page
    assert 'data-testid="reports-to-close">1<' in page
    assert 'data-testid="scheduled-count">2<' in page


def test_htmx_request_gets_the_partial_and_caches_keep_them_apart(client_as):
    client = client_as("staff")
    full = client.get("/")
    partial = client.get("/", headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section id="summary"')
    assert "HX-Request" in full.headers["Vary"]


def test_head_office_sees_the_sending_service_state(client_as, redis_client):
    page = client_as("admin").get("/").text
    assert "Service d'envoi" in page
    assert "Aucun processus d'envoi actif" in page  # no worker runs during this test
    assert "Service d'envoi" not in client_as("staff").get("/").text


def test_unknown_page_is_a_french_404(client_as):
    response = client_as("staff").get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
