"""« Résultats » kept as sales come in (services/result_figures.py) give exactly what the
sales give when measured from scratch (results.measure, the reference), whatever the
order: campaigns ending their sending between imports of purchase files, API pushes,
sales arriving before or after later ones of the same client, corrected sales."""

import csv
import random
import shutil
from dataclasses import asdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message, Purchase, Store
from shopsms.services import api_tokens, imports, result_figures, results, sending

TODAY = date(2026, 4, 20)
STARTS = (datetime(2026, 3, 3, 9, 30), datetime(2026, 3, 9, 14, 0), datetime(2026, 3, 12, 8, 0))


def same(kept, reference, path="result"):
    """Equal; floats to 1e-9 on SQLite, which adds REALs in its own order; on PostgreSQL
    the sums are exact numerics and must be equal to the last digit."""
    if isinstance(reference, dict):
        assert set(kept) == set(reference), path
        for key in reference:
            same(kept[key], reference[key], f"{path}.{key}")
    elif isinstance(reference, list):
        assert len(kept) == len(reference), path
        for n, (a, b) in enumerate(zip(kept, reference, strict=True)):
            same(a, b, f"{path}[{n}]")
    elif isinstance(reference, float):
        if db.session.get_bind().dialect.name == "postgresql":
            assert kept == reference, path
        else:
            assert kept == pytest.approx(reference, rel=1e-9, abs=1e-6), path
    else:
        assert kept == reference, path


def check(campaigns):
    for campaign_id in campaigns:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign.status != "sent":
            continue
        assert result_figures.ready(campaign, results.start_day(campaign), 14)
        kept = results.read(campaign, today=TODAY, days=14)
        reference = results.measure(campaign, today=TODAY, days=14)
        db.session.rollback()  # measure's SET LOCAL (PostgreSQL) goes with its transaction
        same(asdict(kept), asdict(reference))


def chain(rng, clients):
    other = Store(code="002", name="Bayonne", city="Bayonne")
    db.session.add(other)
    db.session.flush()
    stores = list(db.session.scalars(select(Store).order_by(Store.id)))
    db.session.execute(
        insert(Client),
        [
            {
                "external_id": f"K{i}",
                "number": f"N{i:05d}",
                "last_name": f"NOM{i}",
                "first_name": "Ana",
                "store_id": rng.choice(stores).id,
                "sms_consent": "accepted",
            }
            for i in range(clients)
        ],
    )
    ids = list(db.session.scalars(select(Client.id).order_by(Client.id)))
    campaigns = []
    # A store's campaign, a chain-wide one, a chain-wide A/B one; each sending.
    for n, (started, store_id, ab) in enumerate(
        zip(STARTS, (stores[0].id, None, None), (False, False, True), strict=True)
    ):
        campaign = Campaign(
            kind="marketing",
            status="sending",
            store_id=store_id,
            name=f"C{n}",
            body="Soldes",
            control_share=20,
            started_at=started,
            created_at=started,
        )
        db.session.add(campaign)
        db.session.flush()
        rows = []
        for client_id in rng.sample(ids, k=int(len(ids) * 0.8)):
            kind = rng.random()
            control, skipped = kind < 0.25, 0.25 <= kind < 0.35
            rows.append(
                {
                    "campaign_id": campaign.id,
                    "client_id": client_id,
                    "phone": "+33600000000",
                    "text": "Soldes",
                    "parts": 1,
                    "state": "skipped" if control or skipped else "delivered",
                    "skip_reason": "control" if control else "stop" if skipped else "",
                    "variant": rng.choice("AB") if ab and not (control or skipped) else "",
                    "submitted_at": started,
                }
            )
        db.session.execute(insert(Message), rows)
        campaigns.append(campaign.id)
    db.session.commit()
    return [store.code for store in stores], campaigns


def sale(rng, codes, clients, number):
    """A sale of any of the `number` external ids (so some are corrections of earlier
    ones: another day, amount, store, even client), on a day around the windows."""
    day = date(2026, 2, 27) + timedelta(days=rng.randrange(34))
    return {
        "external_id": f"V{rng.randrange(number)}",
        "client": f"K{rng.randrange(clients)}",
        "store": rng.choice(codes),
        "date": day.isoformat(),
        "amount": f"{rng.randrange(100, 30000) / 100:.2f}",
    }


def import_file(tmp_path, sales, n):
    lines = [["Identifiant", "Code client", "Magasin", "Date", "Montant TTC"]]
    for item in sales:
        day = date.fromisoformat(item["date"]).strftime("%d/%m/%Y")
        lines.append(
            [
                item["external_id"],
                item["client"],
                item["store"],
                day,
                item["amount"].replace(".", ","),
            ]
        )
    run_import(tmp_path / f"ventes{n}.csv", "purchases", lines)


def run_import(path, kind, lines):
    with open(path, "w", encoding="utf-8", newline="") as file:
        csv.writer(file, delimiter=";").writerows(lines)
    copy = imports.import_path()
    shutil.copyfile(path, copy)
    run = imports.start(copy, kind=kind, filename=path.name)
    imports.confirm(run.id, run.mapping, enqueue=False)
    done = imports.run(run.id)
    assert done.status == "done" and done.rows_rejected == 0, (done.status, done.error)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_figures_equal_the_sales_measured_from_scratch_whatever_the_order(
    app, ctx, store, client, redis_client, tmp_path, seed
):
    rng = random.Random(seed)
    clients, number = 40, 120
    codes, campaigns = chain(rng, clients)
    key = api_tokens.create("Caisse", store_id=None)[1]
    db.session.commit()
    pending = list(campaigns)
    rng.shuffle(pending)
    # A client moving to another store changes a chain-wide campaign's « magasin d'envoi ».
    steps = ["finish"] * len(pending) + ["import"] * 5 + ["api"] * 5 + ["move"] * 2
    rng.shuffle(steps)
    for n, step in enumerate(steps):
        if step == "finish":
            assert sending.finish(pending.pop())
        elif step == "move":
            moved = rng.sample(range(clients), 6)
            run_import(
                tmp_path / f"clients{n}.csv",
                "clients",
                [["Identifiant", "Nom", "Magasin"]]
                + [[f"K{i}", f"NOM{i}", rng.choice(codes)] for i in moved[:3]],
            )
            items = [
                {"external_id": f"K{i}", "last_name": f"NOM{i}", "store": rng.choice(codes)}
                for i in moved[3:]
            ]
            answer = client.post(
                "/api/v1/clients", json={"items": items}, headers={"Authorization": f"Bearer {key}"}
            )
            assert answer.status_code == 200 and not answer.json["rejected"], answer.json
        else:
            drawn = [sale(rng, codes, clients, number) for _ in range(rng.randrange(5, 40))]
            sales = {item["external_id"]: item for item in drawn}
            if step == "import":
                import_file(tmp_path, list(sales.values()), n)
            else:
                answer = client.post(
                    "/api/v1/purchases",
                    json={"items": list(sales.values())},
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert answer.status_code == 200 and not answer.json["rejected"], answer.json
        db.session.remove()
        check(campaigns)
    # Something was measured: buyers in both groups of each campaign.
    for campaign_id in campaigns:
        got = results.read(db.session.get(Campaign, campaign_id), today=TODAY, days=14)
        assert got.texted.buyers and got.control.buyers


def test_a_sale_arriving_after_a_later_one_moves_the_first_day_back(ctx, store):
    shop = db.session.scalar(select(Store))
    buyer = Client(external_id="K1", number="1", last_name="A", store_id=shop.id)
    db.session.add(buyer)
    db.session.flush()
    started = datetime(2026, 3, 3, 9, 30)
    campaign = Campaign(
        kind="marketing",
        status="sending",
        store_id=shop.id,
        body="x",
        control_share=10,
        started_at=started,
        created_at=started,
    )
    db.session.add(campaign)
    db.session.flush()
    db.session.add(
        Message(
            campaign_id=campaign.id,
            client_id=buyer.id,
            phone="+33600000000",
            text="x",
            parts=1,
            state="delivered",
        )
    )
    db.session.commit()
    assert sending.finish(campaign.id)
    from shopsms.services.imports.upsert import Row, Scope, upsert

    def push(external_id, day, amount):
        row = Row(
            line=1,
            values={"external_id": external_id, "client": "K1", "date": day, "amount": amount},
        )
        upsert("purchases", [row], Scope(store_id=shop.id))
        db.session.commit()

    push("V1", date(2026, 3, 10), 50)
    push("V2", date(2026, 3, 5), 20)  # earlier, but arrives later
    got = results.read(campaign, today=TODAY, days=14)
    assert got.texted.buyers == 1 and got.texted.tickets == 2 and got.texted.revenue == 70
    assert got.texted.cumulative[1] == 0 and got.texted.cumulative[2] == 1
    push("V2", date(2026, 3, 30), 20)  # corrected: after the window
    got = results.read(campaign, today=TODAY, days=14)
    assert got.texted.cumulative[2] == 0 and got.texted.cumulative[7] == 1
    assert got.texted.revenue == 50
    # A sale corrected or deleted through the ORM (no import): the figures follow.
    sale = db.session.scalar(select(Purchase).where(Purchase.external_id == "V1"))
    sale.amount = 45
    db.session.commit()
    assert results.read(campaign, today=TODAY, days=14).texted.revenue == 45
    db.session.delete(sale)
    db.session.commit()
    got = results.read(campaign, today=TODAY, days=14)
    assert got.texted.buyers == 0 and got.texted.cumulative[-1] == 0
    db.session.add(Purchase(client_id=buyer.id, store_id=shop.id, date=date(2026, 3, 4), amount=12))
    db.session.commit()
    got = results.read(campaign, today=TODAY, days=14)
    assert got.texted.buyers == 1 and got.texted.cumulative[1] == 1
    reference = results.measure(campaign, today=TODAY, days=14)
    same(asdict(got), asdict(reference))
