"""The selection's SQL finds exactly the clients a plain Python filter finds, on the
demo chain, for many random combinations of criteria; and its live count says why the
others get no SMS."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy import text as sql_text

from shopsms import demo, selection
from shopsms.extensions import db
from shopsms.models import Brand, Client, OptOut, Purchase, Store
from shopsms.services.client_fields import search_name
from shopsms.web.campaigns import CriteriaForm
from tests.services.selection_oracle import brute_force

pytestmark = pytest.mark.usefixtures("ctx")

TODAY = date(2026, 11, 20)
ACCENTED = ["Étchegaray", "ÉLISSALDE", "Lévêque", "Le Gall", "ŒUVRARD", "élorga"]


def _chain():
    """The demo chain, seeded once per test (the fixture empties tables after each)."""
    if not db.session.scalar(select(func.count(Client.id))):
        demo.seed(clients=300, seed=7, today=TODAY)
        clients = list(db.session.scalars(select(Client).order_by(Client.id)))
        # A few opt-outs and duplicate numbers, so every exclusion reason shows up.
        for client in clients[:40:8]:
            if client.sms_number:
                db.session.add(OptOut(phone=client.sms_number))
        reachable = [c for c in clients[50:] if c.sms_number and c.sms_consent == "accepted"]
        # Accented names, in every case a file holds them: the name search ignores both.
        for client, name in zip(clients[100:160:10], ACCENTED, strict=False):
            client.last_name = name
        # The demo writes in bulk: give every card the search key the app derives.
        for client in clients:
            client.search_name = search_name(client.last_name, client.first_name)
        for a, b in zip(reachable[:20:2], reachable[1:20:2], strict=True):
            b.sms_number = a.sms_number
        db.session.commit()
    clients = list(db.session.scalars(select(Client).order_by(Client.id)))
    purchases = list(db.session.scalars(select(Purchase)))
    return clients, purchases


def _ids(criteria, store_id=None):
    return list(db.session.scalars(selection.ids_query(criteria, today=TODAY, store_id=store_id)))


def criteria_strategy(clients):
    names = sorted({c.last_name for c in clients} | set(ACCENTED))
    cities = sorted({c.city for c in clients if c.city})
    postals = sorted({c.postal_code for c in clients})
    dates = st.dates(min_value=date(2012, 1, 1), max_value=TODAY)
    day_month = st.integers(1, 12).flatmap(lambda m: st.integers(1, 28).map(lambda d: m * 100 + d))

    @st.composite
    def build(draw):
        def maybe(strategy):
            return draw(st.one_of(st.none(), strategy))

        start, end = maybe(dates), maybe(dates)
        if start and end and start > end:
            start, end = end, start
        name = draw(st.sampled_from(names))[: draw(st.integers(1, 4))]
        city = draw(st.sampled_from(cities))
        postal = draw(st.sampled_from(postals))[: draw(st.integers(2, 5))]
        return selection.Criteria(
            created_store_id=maybe(st.integers(1, 6)),
            last_visit_store_id=maybe(st.integers(1, 6)),
            brand_id=maybe(st.integers(1, 13)),
            period_start=start,
            period_end=end,
            revenue=maybe(st.integers(0, 2000).map(Decimal)),
            revenue_op=draw(st.sampled_from(selection.COMPARISONS)),
            visits=maybe(st.integers(0, 8)),
            visits_op=draw(st.sampled_from(selection.COMPARISONS)),
            absent_days=maybe(st.integers(1, 2000)),
            city=draw(
                st.sampled_from(
                    ["", city, city.lower(), city.upper(), city.replace("-", " ").lower()]
                )
            ),
            postal_code=draw(st.sampled_from(["", postal])),
            birthday_from=maybe(day_month),
            birthday_to=maybe(day_month),
            name=draw(st.sampled_from(["", name, name.lower(), name.upper()])),
            sms=draw(st.sampled_from(selection.SMS_CHOICES)),
            address_incomplete=draw(st.sampled_from(selection.TRI_CHOICES)),
            npai=draw(st.sampled_from(selection.TRI_CHOICES)),
            no_purchase_too=draw(st.booleans()),
        )

    return build()


def test_sql_and_python_agree_on_random_criteria():
    clients, purchases = _chain()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        full = data.draw(criteria_strategy(clients))
        # Most real selections use two to four criteria: keep a random few.
        given_ = full.to_dict()
        keep = data.draw(st.sets(st.sampled_from(sorted(given_)), max_size=4)) if given_ else ()
        criteria = selection.Criteria.from_dict({k: v for k, v in given_.items() if k in keep})
        store_id = data.draw(st.sampled_from([None, 1, 3]))
        expected = brute_force(criteria, clients, purchases, today=TODAY, store_id=store_id)
        assert _ids(criteria, store_id) == expected, criteria

    check()


def test_every_criterion_alone_selects_some_and_not_all():
    clients, purchases = _chain()
    brand = db.session.scalar(select(Brand.id).where(Brand.name == "Festina"))
    biarritz = db.session.scalar(select(Store.id).where(Store.code == "001"))
    cases = [
        selection.Criteria(created_store_id=biarritz),
        selection.Criteria(last_visit_store_id=biarritz),
        selection.Criteria(brand_id=brand, revenue=Decimal(100)),
        selection.Criteria(revenue=Decimal(300), revenue_op="lte"),
        selection.Criteria(visits=5),
        selection.Criteria(visits=2, visits_op="lte", period_start=date(2024, 1, 1)),
        selection.Criteria(period_start=date(2025, 1, 1), period_end=date(2025, 12, 31)),
        selection.Criteria(absent_days=365),
        selection.Criteria(city="anglet"),
        selection.Criteria(city="MERIGNAC"),
        selection.Criteria(city="neuilly sur seine"),
        selection.Criteria(revenue=Decimal(300), revenue_op="lte", no_purchase_too=True),
        selection.Criteria(postal_code="64"),
        selection.Criteria(postal_code="64200"),
        selection.Criteria(birthday_from=1215, birthday_to=115),  # across the new year
        selection.Criteria(name=clients[0].last_name[:2].lower()),
        selection.Criteria(sms="with"),
        selection.Criteria(sms="without"),
        selection.Criteria(address_incomplete="yes"),
        selection.Criteria(npai="no"),
    ]
    for criteria in cases:
        found = _ids(criteria)
        assert 0 < len(found) < len(clients), criteria
        assert found == brute_force(criteria, clients, purchases, today=TODAY)


def test_criteria_combine():
    clients, purchases = _chain()
    one = selection.Criteria(postal_code="64")
    both = selection.Criteria(postal_code="64", sms="with", absent_days=90)
    assert set(_ids(both)) < set(_ids(one))


def test_the_live_count_gives_the_reasons():
    clients, purchases = _chain()
    optouts = set(db.session.scalars(select(OptOut.phone)))
    criteria = selection.Criteria(name="")
    ids = set(brute_force(criteria, clients, purchases, today=TODAY))
    expected = dict.fromkeys(selection.EXCLUSIONS, 0)
    seen = set()
    for client in clients:
        if client.id not in ids:
            continue
        if client.sms_refuses_all:
            reason = "refuses_all"
        elif not client.sms_number:
            reason = "no_mobile"
        elif client.sms_consent != "accepted":
            reason = "no_consent"
        elif client.sms_number in optouts:
            reason = "optout"
        elif client.sms_number in seen:
            reason = "duplicate"
        else:
            seen.add(client.sms_number)
            continue
        expected[reason] += 1
    count = selection.count(criteria, db.session, today=TODAY)
    assert count.found == len(ids)
    assert count.reachable == len(seen)
    assert count.excluded == expected
    assert all(expected.values()), expected  # the data exercises every reason
    assert count.found == count.reachable + count.excluded_total


def criteria_of(app, query):
    """What the selection page's form (and its live count) reads from a query."""
    with app.test_request_context(query_string=query):
        return CriteriaForm(formdata=request.args).criteria()


def test_form_errors_say_what_to_fix(app):
    criteria, errors = criteria_of(
        app,
        {
            "revenue": "beaucoup",
            "period_start": "31/12/2025",
            "period_end": "01/01/2025",
            "birthday_from": "32/01",
            "absent_days": "-3",
            "created_store_id": "\x00",
        },
    )
    assert criteria is None
    assert errors["revenue"].startswith("Chiffre d'affaires")
    assert "avant le début" in errors["period_end"]  # said with the fields' own messages
    assert "jj/mm" in errors["birthday_from"]
    assert "birthday_to" not in errors  # « give both dates » waits for the first to be read
    assert "au moins" in errors["absent_days"]
    assert errors["created_store_id"].startswith("Magasin de création")
    parsed, errors = criteria_of(
        app,
        {
            "revenue": "1 500,50",
            "revenue_op": "lte",
            "postal_code": "64 2",
            "sms": "with",
            "birthday_from": "20/12",
            "birthday_to": "10/01",
            "period_start": "2025-01-01",
        },
    )
    assert errors is None
    assert parsed == selection.Criteria(
        revenue=Decimal("1500.50"),
        revenue_op="lte",
        postal_code="642",
        sms="with",
        birthday_from=1220,
        birthday_to=110,
        period_start=date(2025, 1, 1),
    )
    assert selection.Criteria.from_dict(parsed.to_dict()) == parsed
    _, errors = criteria_of(app, {"birthday_from": "20/12", "postal_code": "64-2"})
    assert set(errors) == {"birthday_to", "postal_code"}


def test_edge_cases_agree_with_the_plain_filter(make_client, store):
    """The cases a random draw rarely hits: a birthday range over the new year and the
    29th of February, Corsica's "2A" and a one-digit department, "at most" a revenue
    for clients who never bought, accented names, and clients who never came."""
    old = date(2020, 1, 1)
    ids = {
        "noel": make_client(
            last_name="Étchegaray", birthday_md=1225, postal_code="2A004", created_on=old
        ),
        "janvier": make_client(
            last_name="ETCHEVERRY", birthday_md=105, postal_code="20000", created_on=old
        ),
        "bissextile": make_client(
            last_name="Lévêque", birthday_md=229, postal_code="97100", created_on=old
        ),
        "printemps": make_client(
            last_name="Le Gall", birthday_md=415, postal_code="2B033", created_on=old
        ),
        "nouveau": make_client(last_name="élorga", postal_code="64200", created_on=TODAY),
    }
    db.session.add(
        Purchase(
            client_id=ids["janvier"],
            store_id=store.id,
            date=date(2026, 11, 1),
            amount=Decimal("500"),
        )
    )
    db.session.add(
        Purchase(
            client_id=ids["printemps"],
            store_id=store.id,
            date=date(2021, 5, 1),
            amount=Decimal("50"),
        )
    )
    db.session.commit()
    clients = list(db.session.scalars(select(Client).order_by(Client.id)))
    purchases = list(db.session.scalars(select(Purchase)))

    def both(**fields):
        criteria = selection.Criteria(**fields)
        found = _ids(criteria)
        assert found == brute_force(criteria, clients, purchases, today=TODAY), fields
        return {name for name, client_id in ids.items() if client_id in found}

    assert both(birthday_from=1220, birthday_to=110) == {"noel", "janvier"}
    assert both(birthday_from=229, birthday_to=229) == {"bissextile"}
    assert both(birthday_from=228, birthday_to=301) == {"bissextile"}
    assert both(postal_code="2A") == {"noel"}
    assert both(postal_code="2") == {"noel", "janvier", "printemps"}
    assert both(postal_code="9") == {"bissextile"}
    # "At most 100 €": those who bought little (as StarMag's « CA ≤ 100 € »), and, when
    # asked, those who bought nothing too.
    assert both(revenue=Decimal(100), revenue_op="lte") == {"printemps"}
    assert both(revenue=Decimal(100), revenue_op="lte", no_purchase_too=True) == {
        "noel",
        "bissextile",
        "printemps",
        "nouveau",
    }
    assert both(visits=1, visits_op="lte", period_start=date(2026, 1, 1)) == {"janvier"}
    assert both(
        visits=1, visits_op="lte", period_start=date(2026, 1, 1), no_purchase_too=True
    ) == set(ids)
    assert both(revenue=Decimal(100)) == {"janvier"}
    assert both(name="et") == {"noel", "janvier"}
    assert both(name="ÉT") == {"noel", "janvier"}
    assert both(name="leve") == {"bissextile"}
    assert both(name="le g") == {"printemps"}
    assert both(name="ELO") == {"nouveau"}
    # Not come for 90 days: not the card made today, which never had the time to come.
    assert both(absent_days=90) == {"noel", "bissextile", "printemps"}


def test_city_ignores_case_accents_spaces_and_hyphens(make_client):
    ids = {
        city: make_client(city=city)
        for city in (
            "Mérignac",
            "MERIGNAC",
            "merignac",
            "MÉRIGNAC ",
            "Neuilly-sur-Seine",
            "NEUILLY SUR SEINE",
            "Pessac",
        )
    }
    clients = list(db.session.scalars(select(Client).order_by(Client.id)))
    purchases = []

    def found(city):
        criteria = selection.Criteria(city=city)
        ids_ = _ids(criteria)
        assert ids_ == brute_force(criteria, clients, purchases, today=TODAY)
        return {name for name, client_id in ids.items() if client_id in ids_}

    merignac = {"Mérignac", "MERIGNAC", "merignac", "MÉRIGNAC "}
    for typed in ("merignac", "MERIGNAC", "Mérignac", " mérignac"):
        assert found(typed) == merignac
    neuilly = {"Neuilly-sur-Seine", "NEUILLY SUR SEINE"}
    assert found("Neuilly sur Seine") == neuilly
    assert found("neuilly-sur-seine") == neuilly
    assert found("-") == set()
    # A card whose city changes is found under its new city.
    card = db.session.get(Client, ids["Pessac"])
    card.city = "Mérignac"
    db.session.commit()
    assert found("merignac") == merignac | {"Pessac"}


def _plan(statement):
    """The engine's plan for a statement, as one lower-case string."""
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sql_text("SET LOCAL enable_seqscan = off"))
        rows = db.session.execute(sql_text(f"EXPLAIN {compiled}")).all()
        plan = " ".join(row[0] for row in rows)
    else:
        rows = db.session.execute(sql_text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        plan = " ".join(str(row[-1]) for row in rows)
    db.session.rollback()
    return plan.lower()


def test_city_and_store_scope_are_read_from_indexes(make_client, store):
    client_id = make_client(city="Mérignac")
    # Sales in several stores and on many days, so that the planner sees what a chain's
    # purchases look like: a store's are a few among many, its index the way to them
    # (on a handful of rows any index is as cheap as another).
    others = [Store(code=f"{n:03d}", name=f"Magasin {n}", city="Pau") for n in range(50, 60)]
    db.session.add_all(others)
    db.session.flush()
    first_day = date(2024, 1, 1)
    db.session.add_all(
        Purchase(
            client_id=client_id,
            store_id=others[n % 10].id,
            date=first_day + timedelta(days=n),
            amount=Decimal(n),
        )
        for n in range(2000)
    )
    db.session.execute(sql_text("ANALYZE"))
    db.session.commit()

    def ids(criteria, store_id=None):  # as the live count asks: no order
        where = selection.client_conditions(criteria, today=TODAY, store_id=store_id)
        return select(Client.id).where(*where)

    plan = _plan(ids(selection.Criteria(city="merignac")))
    assert "ix_clients_city_key" in plan, plan
    plan = _plan(ids(selection.Criteria(), store_id=store.id))
    assert "ix_purchases_store_client" in plan, plan


def test_a_store_selects_the_clients_who_bought_there(make_client, store):
    """Staff of a store reach the clients created there and those who bought there."""
    other = Store(code="099", name="Pau", city="Pau")
    db.session.add(other)
    db.session.commit()
    here = make_client(last_name="ICI")
    bought_here = make_client(last_name="ACHETEUR", store_id=other.id)
    elsewhere = make_client(last_name="AILLEURS", store_id=other.id)
    db.session.add_all(
        [
            Purchase(
                client_id=bought_here,
                store_id=store.id,
                date=date(2025, 3, 1),
                amount=Decimal("120"),
            ),
            Purchase(
                client_id=elsewhere, store_id=other.id, date=date(2025, 3, 1), amount=Decimal("90")
            ),
        ]
    )
    db.session.commit()
    clients = list(db.session.scalars(select(Client).order_by(Client.id)))
    purchases = list(db.session.scalars(select(Purchase)))
    for criteria in (
        selection.Criteria(),
        selection.Criteria(revenue=Decimal(100)),
        selection.Criteria(revenue=Decimal(100), revenue_op="lte", no_purchase_too=True),
    ):
        assert _ids(criteria, store.id) == brute_force(
            criteria, clients, purchases, today=TODAY, store_id=store.id
        )
    assert set(_ids(selection.Criteria(), store.id)) == {here, bought_here}
    assert _ids(selection.Criteria(), other.id) == sorted([bought_here, elsewhere])
    count = selection.count(selection.Criteria(), db.session, today=TODAY, store_id=store.id)
    assert count.found == 2
