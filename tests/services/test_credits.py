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
