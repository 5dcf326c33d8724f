"""Issue 20: one amount reading and one date reading for the forms, the import and the API.
« 12,50 € » was accepted by the import and the repair form but refused by the client form;
a birthday typed « 12/05/1980 » was refused by the client form."""

from datetime import date
from decimal import Decimal

import pytest
from flask import request
from sqlalchemy import select

from shopsms import inputs
from shopsms.extensions import db
from shopsms.models import Client
from shopsms.services.imports import fields
from shopsms.web.campaigns import CriteriaForm
from shopsms.web.repairs.forms import ListForm
from tests.conftest import csrf_token

TYPED = "12,50 €"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("12,50 €", "12.50"),
        ("12.5", "12.50"),
        ("1 234,50", "1234.50"),
        ("1\u202f234,50\u00a0€", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1.234.567", "1234567.00"),
        ("-3", "-3.00"),
        ("30", "30.00"),
    ],
)
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
        assert fields.parse_amount(TYPED) == Decimal("12.50")  # the import and the API
        assert inputs.parse_amount(TYPED, "Montant") == Decimal("12.50")
    with app.test_request_context(query_string={"revenue": TYPED}):
        criteria, _ = CriteriaForm(formdata=request.args).criteria()  # the selection's
        assert criteria.revenue == Decimal("12.50")
    with app.test_request_context(query_string={"criteres": "1", "montant_de": TYPED}):
        criteria, errors = ListForm(formdata=request.args).criteria(None)  # the SAV list's
        assert (criteria.amount_min, errors) == (Decimal("12.50"), {})


def test_the_client_form_takes_12_50_euros(app, client_as):
    browser = client_as("staff")
    page = browser.get("/clients/nouveau")
    form = {
        "csrf_token": csrf_token(page),
        "country": "FR",
        "sms_marketing": "unknown",
        "last_name": "DURAND",
        "first_name": "Paul",
        "deposit": TYPED,
        "credit_note": "1 234,50 €",
    }
    assert browser.post("/clients/nouveau", data=form).status_code == 303
    with app.app_context():
        client = db.session.scalar(select(Client))
        assert (client.deposit, client.credit_note) == (Decimal("12.50"), Decimal("1234.50"))


@pytest.mark.parametrize(
    "typed",
    [
        "31/12/2024",
        "2024-12-31",
        "31-12-2024",
        "31.12.2024",
        "31/12/24",
        "31/12/2024 10:30",
        "2024-12-31T10:30:00",
    ],
)
def test_the_one_reading_of_a_day(typed):
    assert inputs.read_date(typed) == date(2024, 12, 31)


def test_every_way_in_reads_a_typed_day_alike(app):
    assert inputs.read_date("") is None
    for typed in ("31/02/2024", "demain", "01/01/1850", "2024-13-01"):
        with pytest.raises(inputs.DateUnreadable):
            inputs.read_date(typed)
    typed = {"criteres": "1", "du": "14/03/2026", "au": "2026-03-14"}
    with app.test_request_context(query_string=typed):
        criteria, errors = ListForm(formdata=request.args).criteria(None)  # the SAV list's
        assert (criteria.date_from, criteria.date_to, errors) == (
            date(2026, 3, 14),
            date(2026, 3, 14),
            {},
        )
    with app.test_request_context():
        assert fields.parse_date("14/03/2026") == date(2026, 3, 14)  # the import and the API
    typed = {"period_start": "14/03/2026", "period_end": "2026-03-20"}
    with app.test_request_context(query_string=typed):
        criteria, _ = CriteriaForm(formdata=request.args).criteria()  # the selection's
        assert (criteria.period_start, criteria.period_end) == (
            date(2026, 3, 14),
            date(2026, 3, 20),
        )


def test_the_client_form_takes_a_typed_birthday(app, client_as):
    browser = client_as("staff")
    page = browser.get("/clients/nouveau")
    form = {
        "csrf_token": csrf_token(page),
        "country": "FR",
        "sms_marketing": "unknown",
        "last_name": "DURAND",
        "first_name": "Paul",
        "birthday": "12/05/1980",
    }
    assert browser.post("/clients/nouveau", data=form).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Client.birthday)) == date(1980, 5, 12)
