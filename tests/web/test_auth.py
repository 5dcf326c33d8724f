from flask import url_for

from shopsms.extensions import db
from shopsms.models import AuditEntry, User
from tests.conftest import csrf_token


def test_login_page_is_french(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Connexion" in response.text
    assert "Identifiant" in response.text and "Mot de passe" in response.text
    assert '<html lang="fr"' in response.text


def test_every_page_but_login_needs_a_session(app, client):
    from shopsms.web.access import PUBLIC_ENDPOINTS

    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments:
            continue
        response = client.get(rule.rule)
        if rule.endpoint in PUBLIC_ENDPOINTS:
            if rule.endpoint.startswith("hooks."):  # gateways' callbacks: a secret, no session
                assert response.status_code in (400, 403), rule.rule
            continue
        assert response.status_code == 302, rule.rule
        assert response.location.startswith("/connexion"), rule.rule
        checked += 1
    assert checked >= 3


def test_an_htmx_request_without_session_reloads_on_the_login_page(client):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/connexion?next=/"


def test_login_then_home(auth, client, users):
    response = auth.login()
    assert response.status_code == 302
    assert response.location == "/"
    home = client.get("/")
    assert "Bonjour Sabine Vendeuse" in home.text
    assert "Crédits SMS restants" in home.text


def test_login_is_case_insensitive_on_the_username(auth, users):
    assert auth.login("VENDEUR").status_code == 302


def test_wrong_password_says_so_in_french(auth, users):
    response = auth.login(password="nope-nope", follow_redirects=True)
    assert "Identifiant ou mot de passe incorrect." in response.text
    assert "Bonjour" not in response.text


def test_inactive_user_cannot_log_in(app, auth, users):
    with app.app_context():
        db.session.get(User, users["staff"].id).active = False
        db.session.commit()
    response = auth.login(follow_redirects=True)
    assert "Identifiant ou mot de passe incorrect." in response.text


def test_login_returns_to_the_page_asked_but_never_elsewhere(client, users):
    page = client.get("/connexion")
    data = {"username": "vendeur", "password": "secret-pass", "csrf_token": csrf_token(page)}
    response = client.post("/connexion?next=//evil.example/x", data=data)
    assert response.location == "/"


def test_logout_needs_post_and_ends_the_session(auth, client, users):
    auth.login()
    assert client.get("/deconnexion").status_code == 405
    response = auth.logout()
    assert response.location == "/connexion"
    assert client.get("/").status_code == 302


def test_login_form_without_csrf_token_is_refused(client, users):
    response = client.post("/connexion", data={"username": "vendeur", "password": "secret-pass"})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # still logged out


def test_csrf_failure_on_htmx_request_asks_for_a_refresh(client_as):
    client = client_as("staff")
    response = client.post("/deconnexion", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Refresh"] == "true"
    assert client.get("/").status_code == 200  # the forged logout did nothing


def test_logins_are_in_the_audit_log(app, auth, users):
    auth.login()
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="user.login").one()
        assert entry.user_id == users["staff"].id
        assert "password" not in str(entry.details)


def test_role_check_answers_403_below_the_role(app, client_as):
    from flask import Blueprint

    from shopsms.web.access import role_required

    probe = Blueprint("probe", __name__)

    @probe.get("/probe/manager-only")
    @role_required("manager")
    def manager_only():
        return "ok"

    app.register_blueprint(probe)
    with app.test_request_context():
        url = url_for("probe.manager_only")
    assert client_as("staff").get(url).status_code == 403
    assert "Accès refusé" in client_as("staff").get(url).text
    assert client_as("manager").get(url).status_code == 200
    assert client_as("admin").get(url).status_code == 200
