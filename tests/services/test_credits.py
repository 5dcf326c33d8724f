import threading

from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Campaign, CreditEntry
from shopsms.services import credits


def test_campaigns_racing_for_the_last_credits_never_overdraw(app, credits_available):
    credits_available(10)
    with app.app_context():
        campaign_ids = []
        for n in range(20):
            campaign = Campaign(kind="marketing", name=f"course {n}")
            db.session.add(campaign)
            db.session.flush()
            campaign_ids.append(campaign.id)
        db.session.commit()

    start = threading.Barrier(len(campaign_ids))
    outcomes = []

    def reserve(campaign_id):
        with app.app_context():
            start.wait()
            try:
                credits.reserve(campaign_id, 3)
                db.session.commit()
                outcomes.append("reserved")
            except credits.NotEnoughCredits:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=reserve, args=(c,)) for c in campaign_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * 17 + ["reserved"] * 3
    with app.app_context():
        assert credits.balance() == 1
        amounts = db.session.scalars(
            select(CreditEntry.amount).where(CreditEntry.kind == "reservation")
        ).all()
        assert amounts == [-3, -3, -3]


def test_a_top_up_must_be_positive_and_is_audited(ctx):
    import pytest

    from shopsms.models import AuditEntry

    with pytest.raises(ValueError, match="positif"):
        credits.top_up(0)
    credits.top_up(500, reference="Facture 2026-118")
    assert credits.balance() == 500
    entry = db.session.query(AuditEntry).filter_by(action="credits.topup").one()
    assert entry.details == {"amount": 500, "reference": "Facture 2026-118"}


def test_low_balance_once_the_threshold_is_reached(ctx):
    from shopsms.services import settings

    assert credits.low_balance() == (0, 500)
    credits.top_up(500, reference="r")
    assert credits.low_balance() == (500, 500)  # reached: the alert shows
    credits.top_up(1, reference="r2")
    assert credits.low_balance() is None
    settings.put("low_credit_threshold", 0)  # 0: no alert
    assert credits.low_balance() is None


def test_top_up_request_mailto_is_prepared(ctx):
    from urllib.parse import parse_qs, urlparse

    link = credits.topup_request_mailto(
        email="compta@ex.fr", store_name="Pau", left=42, requested=1000, who="Marc"
    )
    url = urlparse(link)
    assert url.scheme == "mailto" and url.path == "compta@ex.fr"
    body = parse_qs(url.query)["body"][0]
    assert "Le magasin Pau demande" in body and "42 crédits" in body and "1000 crédits" in body


def test_top_up_validation_says_what_is_wrong(ctx):
    assert credits.validate_top_up("5 000", "Facture 12") == (5000, {})
    assert credits.validate_top_up("-3", "")[1] == {"amount": "invalid", "reference": "missing"}
    assert credits.validate_top_up("10000001", "x" * 121)[1] == {
        "amount": "too_high",
        "reference": "too_long",
    }


def test_monthly_consumption_sums_paris_months_per_store(ctx):
    from datetime import datetime

    from shopsms.models import CreditEntry, Store, User

    pau, dax = Store(code="010", name="Pau"), Store(code="011", name="Dax")
    db.session.add_all([pau, dax])
    db.session.flush()
    lines = [
        (pau.id, datetime(2026, 3, 31, 22, 30), 4),  # 1 April 00:30 in Paris
        (pau.id, datetime(2026, 3, 15, 12, 0), 3),
        (dax.id, datetime(2026, 4, 2, 9, 0), 7),
        (pau.id, datetime(2025, 1, 2, 9, 0), 100),  # older than the chart
    ]
    for store_id, at, parts in lines:
        db.session.add(
            CreditEntry(kind="charge", amount=0, parts=parts, store_id=store_id, created_at=at)
        )
    manager = User(username="g", role="manager", store_id=pau.id, password_hash="x")
    admin = User(username="s", role="admin", password_hash="x")
    db.session.add_all([manager, admin])
    db.session.commit()
    now = datetime(2026, 4, 20, 12, 0)
    chain = credits.monthly_consumption(admin, months=3, now=now)
    assert chain["months"] == ["2026-02", "2026-03", "2026-04"]
    assert chain["stores"] == [("Dax", [0, 0, 7]), ("Pau", [0, 3, 4])]
    assert chain["max"] == 11
    mine = credits.monthly_consumption(manager, months=3, now=now)
    assert mine["stores"] == [("Pau", [0, 3, 4])]
