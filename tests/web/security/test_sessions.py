"""Issue 19: sessions end. A logout, a password change and head office's « Déconnecter
partout » make every copy of the session cookie and every remember-me cookie useless."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

from tests.conftest import PASSWORD, AuthActions, csrf_token


def _cookies(client):
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def _replay(app, cookies):
    """A new browser holding copies of these cookies."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def _login(client, username="vendeur", password=PASSWORD, remember=False):
    page = client.get("/connexion")
    data = {"username": username, "password": password, "csrf_token": csrf_token(page)}
    if remember:
        data["remember"] = "y"
    return client.post("/connexion", data=data)


def test_a_session_cookie_replayed_after_logout_opens_the_login_page(app, client, users):
    assert _login(client).status_code == 302
    stolen = _cookies(client)
    assert _replay(app, stolen).get("/clients/").status_code == 200  # the copy works…
    AuthActions(client).logout()
    answer = _replay(app, stolen).get("/clients/")  # …until the person logs out
    assert answer.status_code == 302
    assert answer.location.startswith("/connexion")


def test_remember_me_lasts_thirty_days_and_ends_at_logout(app, client, users):
    answer = _login(client, remember=True)
    cookie = SimpleCookie()
    for header in answer.headers.getlist("Set-Cookie"):
        cookie.load(header)
    remember = cookie["remember_token"]
    assert remember["httponly"]
    expires = parsedate_to_datetime(remember["expires"])
    assert abs(expires - datetime.now(UTC) - timedelta(days=30)) < timedelta(minutes=5)
    only_remember = {"remember_token": remember.value}
    assert _replay(app, only_remember).get("/clients/").status_code == 200
    AuthActions(client).logout()
    assert _replay(app, only_remember).get("/clients/").status_code == 302


def test_a_password_change_ends_the_other_devices_not_this_one(app, client, users):
    tablet = app.test_client()
    _login(tablet, remember=True)
    tablet_cookies = _cookies(tablet)
    _login(client)
    page = client.get("/compte")
    assert "Changer de mot de passe" in page.text
    answer = client.post(
        "/compte",
        data={
            "current": PASSWORD,
            "new": "un-nouveau-secret",
            "confirmation": "un-nouveau-secret",
            "csrf_token": csrf_token(page),
        },
        follow_redirects=True,
    )
    assert "Mot de passe changé" in answer.text
    assert client.get("/clients/").status_code == 200
    assert _replay(app, tablet_cookies).get("/clients/").status_code == 302
    assert _login(app.test_client(), password="un-nouveau-secret").status_code == 302


def test_a_wrong_current_password_changes_nothing(app, client, users):
    _login(client)
    page = client.get("/compte")
    answer = client.post(
        "/compte",
        data={
            "current": "pas-le-bon",
            "new": "abcdefgh1",
            "confirmation": "abcdefgh1",
            "csrf_token": csrf_token(page),
        },
    )
    assert "Le mot de passe actuel n&#39;est pas le bon." in answer.text
    assert _login(app.test_client()).status_code == 302


def test_head_office_signs_a_person_out_everywhere(app, client_as, users):
    staff = app.test_client()
    _login(staff, remember=True)
    admin = client_as("admin")
    page = admin.get("/parametres/utilisateurs")
    assert page.status_code == 200 and "vendeur" in page.text
    answer = admin.post(
        f"/parametres/utilisateurs/{users['staff'].id}/deconnecter",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "vendeur est déconnecté sur tous ses appareils." in answer.text
    assert staff.get("/clients/").status_code == 302
    assert admin.get("/clients/").status_code == 200


def test_only_head_office_signs_others_out(client_as, users):
    manager = client_as("manager")
    page = manager.get("/")
    assert manager.get("/parametres/utilisateurs").status_code == 403
    answer = manager.post(
        f"/parametres/utilisateurs/{users['staff'].id}/deconnecter",
        data={"csrf_token": csrf_token(page)},
    )
    assert answer.status_code == 403


def test_forged_session_ids_open_nothing(app, users):
    for forged in (str(users["staff"].id), f"{users['staff'].id}:0", "9" * 40 + ":1", "x:y"):
        other = app.test_client()
        with other.session_transaction() as session:
            session["_user_id"] = forged
            session["_fresh"] = True
        assert other.get("/clients/").status_code == 302, forged
