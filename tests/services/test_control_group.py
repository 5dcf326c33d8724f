"""The « groupe témoin » of a marketing campaign: its share, drawn again the same way,
held out after every exclusion, alike the texted clients, and free."""

import random
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import Client, DraftRecipient, Purchase, Store, User
from shopsms.services import campaigns, recipients, results, settings
from shopsms.sms import phones


def _chain(count, *, stores=2, seed=7):
    """`count` clients over `stores` stores, each with a past revenue; one in ten without
    consent (an exclusion the draw must come after)."""
    rng = random.Random(seed)
    shops = [Store(code=f"9{i:02d}", name=f"Magasin {i}", city="Pau") for i in range(stores)]
    db.session.add_all(shops)
    db.session.flush()
    rows = []
    for i in range(count):
        tel = f"06 20 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}"
        rows.append(
            Client(
                number=f"C{i:07d}",
                last_name=f"NOM{i}",
                first_name="Ana",
                store_id=shops[i % stores].id,
                tel1=tel,
                sms_number=phones.sms_number(tel, ""),
                sms_consent="accepted" if i % 10 else "refused",
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    day = date(2026, 1, 10)
    db.session.add_all(
        Purchase(
            client_id=c.id, store_id=c.store_id, date=day, amount=Decimal(rng.randint(20, 900))
        )
        for c in rows
        if rng.random() < 0.6
    )
    admin = User(username="siege", full_name="Siège", role="admin")
    admin.set_password("x" * 12)
    db.session.add(admin)
    db.session.commit()
    return admin, shops


def _groups(campaign_id):
    rows = db.session.execute(
        select(DraftRecipient.client_id, DraftRecipient.state, DraftRecipient.skip_reason).where(
            DraftRecipient.campaign_id == campaign_id
        )
    ).all()
    held = {r.client_id for r in rows if r.skip_reason == "control"}
    texted = {r.client_id for r in rows if r.state == "pending"}
    return texted, held, rows


def test_ten_percent_of_the_eligible_are_held_out_after_every_exclusion(ctx):
    admin, _ = _chain(2000)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    texted, held, rows = _groups(campaign.id)
    eligible = len(texted) + len(held)
    assert eligible == 1800  # the 200 without consent are excluded first
    assert len(held) == 180 and campaign.control_share == 10
    no_consent = {r.client_id for r in rows if r.skip_reason == "no_consent"}
    assert not held & no_consent
    summary = recipients.summary(campaign.id)
    assert (summary.recipients, summary.control) == (1620, 180)
    assert summary.skipped == {"no_consent": 200}


def test_the_draw_is_the_same_for_the_same_campaign_and_list(ctx):
    admin, _ = _chain(1000)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    _, first, _ = _groups(campaign.id)
    recipients.set_control_share(admin, campaign.id, "25")
    _, quarter, _ = _groups(campaign.id)
    assert len(quarter) == 225
    recipients.set_control_share(admin, campaign.id, "10")
    _, again, _ = _groups(campaign.id)
    assert again == first
    # Another campaign on the same list draws other clients.
    other = results.draw(campaign.id + 1, sorted(first | quarter), 10)
    assert other != results.draw(campaign.id, sorted(first | quarter), 10)


@pytest.mark.parametrize("typed", ["51", "-1", "dix", "\x00", "9" * 400])
def test_a_share_out_of_bounds_is_refused_in_french(ctx, typed):
    admin, _ = _chain(300)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    with pytest.raises(campaigns.CampaignError, match="Groupe témoin"):
        recipients.set_control_share(admin, campaign.id, typed)
    assert recipients.summary(campaign.id).control == 27


def test_a_small_list_gets_no_control_group_unless_asked(ctx):
    admin, _ = _chain(100)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    assert recipients.summary(campaign.id).control == 0 and campaign.control_share == 0
    recipients.set_control_share(admin, campaign.id, "20")
    assert recipients.summary(campaign.id).control == 18


def test_held_out_clients_cost_nothing_and_are_never_texted(ctx, credits_available):
    admin, _ = _chain(400)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    recipients.compose(admin, campaign.id, "Soldes -20 % ce week-end", "BIJOUX")
    summary = recipients.summary(campaign.id)
    assert summary.control == 36
    assert campaigns.cost(campaign.id) == summary.recipients  # one part each, texted only
    credits_available(10_000)
    settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
    settings.put("sending_start", "00:00")
    settings.put("sending_end", "23:59")
    campaigns.queue_now(campaign.id, user_id=admin.id)
    from shopsms.services.sending import send_next_batch

    while not send_next_batch(campaign.id).done:
        pass
    from shopsms.models import Message, OutboxMessage

    held = db.session.scalar(
        select(func.count()).where(
            Message.campaign_id == campaign.id,
            Message.skip_reason == "control",
            Message.state == "skipped",
        )
    )
    assert held == 36
    held_phones = select(Message.phone).where(
        Message.campaign_id == campaign.id, Message.skip_reason == "control"
    )
    assert not db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.phone.in_(held_phones))
    )
    assert results.spent(campaign.id) == summary.recipients


def test_both_groups_are_alike_on_store_and_past_revenue(ctx):
    admin, shops = _chain(6000, stores=3)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    texted, held, _ = _groups(campaign.id)
    store_of = dict(db.session.execute(select(Client.id, Client.store_id)).all())
    revenue = dict(
        db.session.execute(
            select(Purchase.client_id, func.sum(Purchase.amount)).group_by(Purchase.client_id)
        ).all()
    )
    for shop in shops:
        share_texted = sum(store_of[c] == shop.id for c in texted) / len(texted)
        share_held = sum(store_of[c] == shop.id for c in held) / len(held)
        # 540 held out: a store's share differs by sampling error only (3 standard errors).
        se = (share_texted * (1 - share_texted) / len(held)) ** 0.5
        assert abs(share_texted - share_held) < 3 * se
    values_t = [float(revenue.get(c, 0)) for c in texted]
    values_h = [float(revenue.get(c, 0)) for c in held]
    mean_t, mean_h = sum(values_t) / len(values_t), sum(values_h) / len(values_h)
    var_t = sum((v - mean_t) ** 2 for v in values_t) / (len(values_t) - 1)
    var_h = sum((v - mean_h) ** 2 for v in values_h) / (len(values_h) - 1)
    assert abs(mean_t - mean_h) < 3 * (var_t / len(values_t) + var_h / len(values_h)) ** 0.5
