"""Issue 19: unsafe text is not kept. Bidi controls and zero-width characters leave names
(where they also forced the costlier Unicode SMS), control characters leave references,
and a saved message is no longer than the longest text a campaign may send."""

from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Client, CreditEntry, Template, User
from shopsms.services import saved_messages
from shopsms.services.saved_messages import BODY_MAX
from tests.conftest import csrf_token


def test_a_client_name_loses_its_bidi_and_zero_width_characters(app, client_as, store):
    manager = client_as("manager")
    page = manager.get("/clients/nouveau")
    answer = manager.post(
        "/clients/nouveau",
        data={
            "csrf_token": csrf_token(page),
            "last_name": "DUPONT\u202e\u200b",
            "first_name": "Je\u200dan\u2066",
            "tel1": "06 12 34 56 78",
            "country": "FR",
            "sms_marketing": "accepted",
        },
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "caractères invisibles" in answer.text
    with app.app_context():
        client = db.session.scalar(select(Client))
        assert (client.last_name, client.first_name) == ("DUPONT", "Jean")


def test_a_top_up_reference_loses_its_control_characters(app, client_as):
    admin = client_as("admin")
    page = admin.get("/credits/")
    admin.post(
        "/credits/recharger",
        data={"csrf_token": csrf_token(page), "amount": "100", "reference": "FA\x00-12\x1b[31m"},
    )
    with app.app_context():
        references = list(db.session.scalars(select(CreditEntry.reference)))
        assert references and all("\x00" not in r and "\x1b" not in r for r in references)


def test_a_saved_message_is_at_most_the_longest_sendable_text(app, users, client_as):
    staff = client_as("staff")
    page = staff.get("/messages")
    answer = staff.post(
        "/composer/messages",
        data={"csrf_token": csrf_token(page), "name": "Roman", "body": "x" * 100_000},
    )
    assert answer.status_code in (200, 400, 422)
    with app.test_request_context():
        assert db.session.scalar(select(Template.id)) is None
        person = db.session.get(User, users["staff"].id)
        try:
            saved_messages.save(person, "Long", "x" * (BODY_MAX + 1))
        except saved_messages.SavedMessageError as error:
            assert f"{BODY_MAX} au plus" in str(error)
        else:
            raise AssertionError("a message longer than any SMS was saved")
        assert saved_messages.save(person, "Juste", "x" * BODY_MAX)
