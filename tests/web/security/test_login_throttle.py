"""Issue 19: guessing passwords is stopped, per account and per address, and the answer's
time does not tell a known login from an unknown one."""

import html
import statistics
import time

import pytest

from shopsms.extensions import db
from shopsms.models import User
from tests.conftest import PASSWORD, csrf_token

THROTTLED = "Trop d'essais de connexion : réessayez dans 15 minutes."


def _try(client, username, password, address="10.0.0.1"):
    page = client.get("/connexion")
    return client.post(
        "/connexion",
        data={"username": username, "password": password, "csrf_token": csrf_token(page)},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.mark.parametrize("username", ["vendeur", "personne.inconnue"])
def test_twenty_wrong_passwords_then_the_account_waits(client, users, username):
    answers = [_try(client, username, f"wrong-{n}") for n in range(20)]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    assert all("Identifiant ou mot de passe incorrect." in a.text for a in answers[:10])
    for answer in answers[10:]:
        assert answer.status_code == 429
        assert THROTTLED in html.unescape(answer.text)
        assert 840 <= int(answer.headers["Retry-After"]) <= 900
    # Even the right password waits, from another address too: the account is held.
    right = _try(client, username, PASSWORD, address="10.0.0.2")
    assert right.status_code == 429 and THROTTLED in html.unescape(right.text)
    assert client.get("/clients/").status_code == 302


def test_other_accounts_still_log_in(client, users):
    for n in range(12):
        _try(client, "vendeur", f"wrong-{n}")
    assert _try(client, "gerant", PASSWORD, address="10.0.0.9").status_code == 302


def test_one_address_trying_many_accounts_waits(client, users):
    for n in range(50):
        _try(client, f"compte{n}", "wrong", address="10.9.9.9")
    answer = _try(client, "vendeur", PASSWORD, address="10.9.9.9")
    assert answer.status_code == 429
    assert _try(client, "vendeur", PASSWORD, address="10.9.9.10").status_code == 302


def test_a_success_forgets_the_account_failures(client, users):
    for n in range(9):
        _try(client, "vendeur", f"wrong-{n}")
    assert _try(client, "vendeur", PASSWORD).status_code == 302
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/"))})
    for n in range(9):
        assert _try(client, "vendeur", f"wrong-{n}").status_code == 200


def test_throttling_holds_while_redis_is_down(app, users):
    # A port nobody listens on: the counter falls back to the process's memory.
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("redis", None)
    client = app.test_client()
    answers = [_try(client, "vendeur", f"wrong-{n}").status_code for n in range(11)]
    assert answers == [200] * 10 + [429]


def test_known_and_unknown_logins_answer_in_the_same_time(app, client, users):
    # scrypt, the production hash, where the difference the issue measured came from; at a
    # quarter of its cost, so that a loaded machine's noise stays under the 20 ms.
    app.config["PASSWORD_HASH_METHOD"] = "scrypt:8192:8:1"
    app.config["LOGIN_MAX_FAILURES"] = 1000  # the throttle's answer is not what is timed
    with app.app_context():
        db.session.get(User, users["staff"].id).set_password(PASSWORD)
        db.session.commit()
    token = csrf_token(client.get("/connexion"))

    def timed(username):
        data = {"username": username, "password": "wrong-password", "csrf_token": token}
        started = time.perf_counter()
        answer = client.post("/connexion", data=data)
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200
        return elapsed

    # Pairs taken back to back, in turn, so that the machine's load weighs on both sides.
    known, unknown = [], []
    for n in range(21):
        if n % 2:
            unknown.append(timed("inconnu.total"))
            known.append(timed("vendeur"))
        else:
            known.append(timed("vendeur"))
            unknown.append(timed("inconnu.total"))
    gap = statistics.median(k - u for k, u in zip(known, unknown, strict=True))
    assert abs(gap) < 0.020, (gap, statistics.median(known), statistics.median(unknown))
