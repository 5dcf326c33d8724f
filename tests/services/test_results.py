"""« Résultats »: the uplift and its intervals (by hand on a small table, against
statsmodels on a large one), and the figures read from the sales of a sent campaign."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message, Purchase, Store
from shopsms.services import results


def test_the_conversion_interval_matches_a_hand_computation():
    # 30 buyers of 200 texted, 10 of 100 held out: p1 = 0.15, p0 = 0.10,
    # se = sqrt(0.15 × 0.85 / 200 + 0.10 × 0.90 / 100) = sqrt(0.0015375) = 0.0392110
    got = results.proportion_difference(30, 200, 10, 100)
    assert got.estimate == pytest.approx(0.05)
    assert got.low == pytest.approx(0.05 - 1.959964 * 0.0392110, abs=1e-6)  # -0.026852
    assert got.high == pytest.approx(0.126852, abs=1e-6)


def test_the_revenue_interval_matches_a_hand_computation():
    texted = [0, 0, 0, 120, 80, 0, 0, 200]  # mean 50, variance 40800 / 7
    control = [0, 50, 0, 0]  # mean 12.5, variance 1875 / 3 = 625
    got = results.mean_difference(
        sum(texted),
        sum(v * v for v in texted),
        len(texted),
        sum(control),
        sum(v * v for v in control),
        len(control),
    )
    # se = sqrt(5828.571 / 8 + 625 / 4) = sqrt(884.821) = 29.7459
    assert got.estimate == pytest.approx(37.5)
    assert got.low == pytest.approx(37.5 - 1.959964 * 29.7459, abs=1e-3)
    assert got.high == pytest.approx(95.8010, abs=1e-3)


def test_the_intervals_agree_with_statsmodels_on_a_large_table():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    weightstats = pytest.importorskip("statsmodels.stats.weightstats")
    rng = random.Random(21)
    texted = [rng.random() < 0.23 and rng.lognormvariate(4.5, 0.8) or 0.0 for _ in range(45_000)]
    control = [rng.random() < 0.20 and rng.lognormvariate(4.5, 0.8) or 0.0 for _ in range(5_000)]
    b1, b0 = sum(v > 0 for v in texted), sum(v > 0 for v in control)
    ours = results.proportion_difference(b1, len(texted), b0, len(control))
    low, high = proportion.confint_proportions_2indep(
        b1, len(texted), b0, len(control), method="wald", compare="diff"
    )
    assert (ours.low, ours.high) == pytest.approx((low, high), rel=1e-9)
    ours = results.mean_difference(
        sum(texted),
        sum(v * v for v in texted),
        len(texted),
        sum(control),
        sum(v * v for v in control),
        len(control),
    )
    compared = weightstats.CompareMeans(
        weightstats.DescrStatsW(texted), weightstats.DescrStatsW(control)
    )
    low, high = compared.zconfint_diff(usevar="unequal")
    assert (ours.low, ours.high) == pytest.approx((low, high), rel=1e-6)


# --- a sent campaign and the sales that followed ------------------------------------------

SENT = datetime(2026, 3, 3, 9, 30)  # UTC; 10:30 in Paris


def sent_campaign(texted, control, *, texted_buyers, control_buyers, other_store_every=0):
    """A marketing campaign of store 1 sent on 3 March 2026 to `texted` clients, `control`
    held out; the first `*_buyers` of each group buy once, 100 €, on day 1 + i % 10 (one
    in `other_store_every` at store 2), and everybody bought once 30 days before."""
    shops = [Store(code=f"7{i}", name=f"Magasin {i}", city="Pau") for i in (1, 2)]
    db.session.add_all(shops)
    db.session.flush()
    total = texted + control
    db.session.execute(
        insert(Client),
        [
            {
                "number": f"R{i:06d}",
                "last_name": f"NOM{i}",
                "first_name": "Ana",
                "store_id": shops[0].id,
                "sms_consent": "accepted",
            }
            for i in range(total)
        ],
    )
    ids = sorted(db.session.scalars(db.select(Client.id)))
    campaign = Campaign(
        kind="marketing",
        status="sent",
        store_id=shops[0].id,
        body="Soldes",
        control_share=round(100 * control / total),
        started_at=SENT,
        finished_at=SENT + timedelta(minutes=5),
        created_at=SENT,
    )
    db.session.add(campaign)
    db.session.flush()
    groups = [("texted", i) for i in ids[:texted]] + [("control", i) for i in ids[texted:]]
    db.session.execute(
        insert(Message),
        [
            {
                "campaign_id": campaign.id,
                "client_id": client_id,
                "phone": "+33600000000",
                "text": "Soldes",
                "parts": 1,
                "state": "delivered" if group == "texted" else "skipped",
                "skip_reason": "" if group == "texted" else "control",
                "submitted_at": SENT if group == "texted" else None,
            }
            for group, client_id in groups
        ],
    )
    sales = []
    start = date(2026, 3, 3)
    for members, buyers in ((ids[:texted], texted_buyers), (ids[texted:], control_buyers)):
        for i, client_id in enumerate(members):
            sales.append(
                {
                    "client_id": client_id,
                    "store_id": shops[0].id,
                    "date": start - timedelta(days=30),
                    "amount": Decimal("55"),
                }
            )
            if i < buyers:
                other = other_store_every and i % other_store_every == 0
                sales.append(
                    {
                        "client_id": client_id,
                        "store_id": shops[1 if other else 0].id,
                        "date": start + timedelta(days=1 + i % 10),
                        "amount": Decimal("100"),
                    }
                )
    # A sale after the window counts for nothing.
    sales.append(
        {
            "client_id": ids[0],
            "store_id": shops[0].id,
            "date": start + timedelta(days=20),
            "amount": Decimal("999"),
        }
    )
    db.session.execute(insert(Purchase), sales)
    db.session.commit()
    return campaign


def test_the_figures_per_group_come_from_the_sales_of_the_window(ctx):
    campaign = sent_campaign(1800, 200, texted_buyers=540, control_buyers=40, other_store_every=4)
    got = results.measure(campaign, today=date(2026, 4, 1))
    assert (got.texted.clients, got.texted.buyers) == (1800, 540)
    assert (got.control.clients, got.control.buyers) == (200, 40)
    assert got.texted.revenue == pytest.approx(54_000)
    assert got.texted.basket == pytest.approx(100)
    assert got.texted.per_client == pytest.approx(30)
    assert (got.texted.buyers_own_store, got.texted.buyers_other_store) == (405, 135)
    assert got.texted.revenue_other_store == pytest.approx(13_500)
    assert not got.provisional and got.elapsed == 14
    assert got.texted.cumulative[0] == 0 and got.texted.cumulative[1] == 54
    assert got.texted.cumulative[-1] == 540 and len(got.texted.cumulative) == 14
    assert got.conversion.estimate == pytest.approx(0.10)
    assert got.verdict == "positive"
    assert got.incremental_revenue.estimate == pytest.approx(1800 * (30 - 20))
    assert got.incremental_buyers == pytest.approx(180)
    assert got.credits == 1800
    assert got.cost_per_incremental_buyer == pytest.approx(10)


def test_a_campaign_with_no_effect_reads_no_measurable_effect(ctx):
    campaign = sent_campaign(1800, 200, texted_buyers=360, control_buyers=40)
    got = results.measure(campaign, today=date(2026, 4, 1))
    assert got.conversion.estimate == pytest.approx(0)
    assert got.verdict_text == "pas d'effet mesurable"


def test_a_small_campaign_reads_sample_too_small_and_early_results_are_provisional(ctx):
    campaign = sent_campaign(90, 10, texted_buyers=30, control_buyers=1)
    got = results.measure(campaign, today=date(2026, 3, 8))
    assert got.verdict_text == "échantillon trop petit"
    assert got.provisional and (got.elapsed, got.days) == (5, 14)
    assert len(got.texted.cumulative) == 5


def test_the_snapshot_is_read_back_unchanged(ctx):
    campaign = sent_campaign(1800, 200, texted_buyers=540, control_buyers=40)
    first = results.current(campaign, now=datetime(2026, 4, 1), today=date(2026, 4, 1))
    again = results.Results.from_json(campaign.results)
    assert again == first
