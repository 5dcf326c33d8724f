"""Issue 20: one amount reading for the forms, the import and the API. « 12,50 € » was
accepted by the import and the repair form but refused by the client form."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from shopsms import inputs, selection
from shopsms.extensions import db
from shopsms.models import Client
from shopsms.services.imports import fields
from shopsms.web.repairs.forms import parse_amount as repair_amount
from tests.conftest import csrf_token

TYPED = "12,50 €"


@pytest.mark.parametrize(
    ("typed", "read"),
    [("12,50 €", "12.50"), ("12.5", "12.50"), ("1 234,50", "1234.50"),
     ("1\u202f234,50\u00a0€", "1234.50"), ("1.234,50", "1234.50"), ("1,234.50", "1234.50"),
     ("1.234.567", "1234567.00"), ("-3", "-3.00"), ("30", "30.00")],
)  # fmt: skip
def test_the_one_reading_of_an_amount(typed, read):
    assert inputs.read_amount(typed) == Decimal(read)


def test_what_is_not_an_amount():
    assert inputs.read_amount("") is None and inputs.read_amount(" € ") is None
    with pytest.raises(inputs.AmountUnreadable) as ambiguous:
        inputs.read_amount("1.234")  # a thousand, or one euro twenty-three?
    assert ambiguous.value.ambiguous
    for typed in ("abc", "NaN", "-Infinity", "1.23,4", "12,50 $"):
        with pytest.raises(inputs.AmountUnreadable):
            inputs.read_amount(typed)
    with pytest.raises(inputs.AmountUnreadable) as huge:
        inputs.read_amount("1e400")
    assert huge.value.too_large


def test_every_way_in_reads_12_50_euros_alike(app):
    with app.test_request_context():
        errors = {}
        assert repair_amount(TYPED, "client_price", errors, "Montant") == Decimal("12.50")
        assert not errors
        assert fields.parse_amount(TYPED) == Decimal("12.50")  # the import and the API
        assert inputs.parse_amount(TYPED, "Montant") == Decimal("12.50")
        criteria = selection.from_form({"revenue": TYPED})
        assert criteria.revenue == Decimal("12.50")


def test_the_client_form_takes_12_50_euros(app, client_as):
    browser = client_as("staff")
    page = browser.get("/clients/nouveau")
    form = {"csrf_token": csrf_token(page), "country": "FR", "sms_marketing": "unknown",
            "last_name": "DURAND", "first_name": "Paul", "deposit": TYPED,
            "credit_note": "1 234,50 €"}  # fmt: skip
    assert browser.post("/clients/nouveau", data=form).status_code == 303
    with app.app_context():
        client = db.session.scalar(select(Client))
        assert (client.deposit, client.credit_note) == (Decimal("12.50"), Decimal("1234.50"))
