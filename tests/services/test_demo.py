from collections import Counter

import pytest
from sqlalchemy import func, select

from shopsms import demo
from shopsms.extensions import db
from shopsms.models import REPAIR_STATUSES, Client, CreditEntry, Purchase, RepairTicket, User
from shopsms.sms.phones import sms_number

pytestmark = pytest.mark.usefixtures("ctx")


def test_seed_builds_a_chain_that_looks_real(app):
    report = demo.seed(clients=400, seed=11)
    assert report.clients == db.session.scalar(select(func.count(Client.id))) == 400
    assert report.purchases == db.session.scalar(select(func.count(Purchase.id))) > 400
    roles = Counter(db.session.scalars(select(User.role)))
    assert roles["admin"] >= 1 and roles["manager"] >= 1 and roles["staff"] >= 1
    for user in db.session.scalars(select(User)):
        assert user.check_password(demo.DEMO_PASSWORD)
    statuses = set(db.session.scalars(select(RepairTicket.status)))
    assert statuses == set(REPAIR_STATUSES)
    # The past campaigns' SMS were paid for out of the demo's 10,000 credits.
    spent = db.session.scalar(
        select(func.sum(CreditEntry.parts)).where(CreditEntry.kind == "charge")
    )
    assert spent > 0
    assert db.session.scalar(select(func.sum(CreditEntry.amount))) == 10_000 - spent

    clients = list(db.session.scalars(select(Client)))
    with_mobile = [c for c in clients if c.sms_number]
    # A realistic mix: most reachable, some with only a landline, some with nothing usable.
    assert 0.6 < len(with_mobile) / len(clients) < 0.95
    assert any(c.tel1 and not c.sms_number for c in clients)
    assert any(not c.tel1 for c in clients)
    assert any(c.sms_number and not c.sms_number.startswith("+33") for c in clients)
    assert any(c.sms_number and c.tel1 and sms_number(c.tel1, "") is None for c in clients)
    # Bulk-loaded rows bypass the ORM listener: the name search must still find them.
    assert all(c.search_name for c in clients)
    for c in clients:  # the stored number is the one the SMS core would choose
        assert c.sms_number == sms_number(c.tel1, c.tel2)
        if c.birthday:
            assert c.birthday_md == c.birthday.month * 100 + c.birthday.day
    assert {c.sms_consent for c in clients} == {"accepted", "refused", "unknown"}
    assert any(c.address_incomplete for c in clients)
    assert any(c.last_name.isupper() for c in clients)
    assert any("é" in (c.first_name + c.last_name + c.city).lower() for c in clients)


def test_demo_command_refuses_a_database_with_data_and_says_why(runner):
    first = runner.invoke(args=["demo", "seed", "--clients", "50"])
    assert first.exit_code == 0, first.output
    assert "mot de passe : shopsms-demo" in first.output
    assert "siege" in first.output and "vendeur.biarritz" in first.output
    again = runner.invoke(args=["demo", "seed", "--clients", "50"])
    assert again.exit_code != 0 and "base vide" in again.output
    quiet = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert quiet.exit_code == 0 and "non rechargée" in quiet.output
    assert db.session.scalar(select(func.count(Client.id))) == 50


def test_seed_has_past_campaigns_with_control_groups_and_the_sales_that_followed(app):
    from datetime import date

    from shopsms.models import Campaign
    from shopsms.services import results

    demo.seed(clients=3000, seed=5, today=date(2026, 6, 1))
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.started_at)))
    assert len(campaigns) == 3 and all(results.measurable(c) for c in campaigns)
    first, _, last = (results.measure(c, today=date(2026, 6, 1)) for c in campaigns)
    assert first.control.clients == round(0.2 * (first.texted.clients + first.control.clients))
    assert first.texted.buyers and first.control.buyers
    assert not first.provisional
    assert last.provisional and last.elapsed == 5
    assert last.texted.conversion > last.control.conversion
    # Its A/B texts (issue 21): half of the texted each, with their SMS and buyers.
    a, b = last.variants
    assert (a.name, b.name) == ("A", "B") and abs(a.clients - b.clients) <= 1
    assert a.sent == a.clients and b.sent == b.clients and a.buyers and b.buyers
    # The results list's export carries each variant's clients, SMS, rate and gap.
    line = results.Line(campaigns[-1].id, "Ventes", "", campaigns[-1].started_at, last)
    (row,) = results.list_rows([line])
    assert len(row) == len(results.LIST_HEADER)
    assert row[-8:-6] == (a.clients, a.sent) and row[-4:-2] == (b.clients, b.sent)
    assert row[-2] == round(100 * b.conversion, 2)
