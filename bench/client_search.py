"""How long the client list's active search takes, on the demo's size and on a million
clients: median and p95 per kind of search, as head office (the whole chain) and as a
store's staff. Prints one JSON line per size. DATABASE_URL picks the database (default
a fresh SQLite file; a PostgreSQL run uses a throw-away database on that server).

The million clients are synthetic rows written straight with bulk inserts (COPY on
PostgreSQL): names from a pool, French mobiles and landlines, their derived columns
computed the way services.client_fields.phone_fields does for such numbers, and the search
name by services.client_fields.search_name itself (cached: the names come from a pool).
"""

import json
import os
import random
import statistics
import tempfile
import time
from types import SimpleNamespace

from sqlalchemy import make_url, text

from bench._db import throwaway_database

SIZES = [int(n) for n in os.environ.get("BENCH_CLIENT_SEARCH_SIZES", "2000,1000000").split(",")]
RUNS = int(os.environ.get("BENCH_CLIENT_SEARCH_RUNS", "15"))
CHUNK = 50_000


def _clients(rng, stores, count, names, first_names):
    """Synthetic client rows, CHUNK at a time."""
    from functools import lru_cache

    from shopsms.services.client_fields import phone_fields, search_name

    name_of = lru_cache(maxsize=None)(search_name)
    rows = []
    for n in range(1, count + 1):
        kind = rng.random()
        digits = "".join(rng.choice("0123456789") for _ in range(8))
        if kind < 0.7:
            tel1, tel2 = rng.choice(("06", "07")) + digits, ""
        elif kind < 0.85:
            tel1, tel2 = "05" + digits, "06" + digits[::-1]
        else:
            tel1, tel2 = "05" + digits, ""
        if n <= 200:  # the real derivation on a sample: the fast one must agree with it
            fields = phone_fields(tel1, tel2)
        else:
            mobile = tel1 if tel1[:2] in ("06", "07") else (tel2 or None)
            fields = {
                "sms_number": "+33" + mobile[1:] if mobile else None,
                "phone_digits": " ".join(
                    form for tel in (tel1, tel2) if tel for form in ("33" + tel[1:], tel)
                ),
            }
        last_name, first_name = rng.choice(names), rng.choice(first_names)
        rows.append(
            {
                "number": f"{n:07d}",
                "last_name": last_name,
                "first_name": first_name,
                "search_name": name_of(last_name, first_name),
                "postal_code": rng.choice(("64200", "64100", "64000", "33000", "31000", "75009")),
                "city": rng.choice(("Biarritz", "Bayonne", "Pau", "Bordeaux", "Toulouse", "Paris")),
                "tel1": tel1,
                "tel2": tel2,
                "store_id": rng.choice(stores),
                "sms_consent": "accepted",
                **fields,
            }
        )
        if len(rows) == CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def _fill(count, rng):
    from faker import Faker

    from shopsms.extensions import db
    from shopsms.models import Client, Store
    from shopsms.models.base import bulk_insert

    fake = Faker("fr_FR")
    fake.seed_instance(1)
    names = sorted({fake.last_name().upper() for _ in range(3000)})
    first_names = sorted({fake.first_name() for _ in range(600)})
    stores = []
    for code, name in (
        ("001", "Biarritz"),
        ("002", "Bayonne"),
        ("003", "Pau"),
        ("004", "Bordeaux"),
        ("005", "Toulouse"),
        ("006", "Paris"),
    ):
        store = Store(code=code, name=name, city=name)
        db.session.add(store)
        db.session.flush()
        stores.append(store.id)
    db.session.commit()
    for rows in _clients(rng, stores, count, names, first_names):
        bulk_insert(Client, rows)
        db.session.commit()
    db.session.commit()
    # What autovacuum does after a bulk load: statistics, and on PostgreSQL the merge of
    # the GIN index's pending list (until then, trigram searches read that list).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE clients"))
        else:
            connection.execute(text("ANALYZE"))
    phones = [
        tel
        for (tel,) in db.session.execute(
            text(
                "SELECT tel1 FROM clients WHERE tel1 LIKE '06%' AND store_id = :store "
                "ORDER BY id LIMIT 200"
            ),
            {"store": stores[0]},
        )
    ]
    return stores, names, phones


def _searches(rng, names, phones):
    phone = rng.choice(phones)
    compound = [name for name in names if " " in name or "-" in name] or names
    inner = rng.choice(compound).replace("-", " ").split(" ")[-1]
    return {
        "phone_4_digits": phone[-4:],
        "phone_part_typed": f"{phone[:2]} {phone[2:4]} {phone[4:6]}",
        "phone_full": " ".join(phone[i : i + 2] for i in range(0, 10, 2)),
        "phone_international": "+33 " + phone[1] + " " + phone[2:6],
        "name_prefix": rng.choice(names)[:3].lower(),
        "name_inner_word": inner[:4].lower(),  # "gall" for « LE GALL »
        "name_without_accent": "leveque",
        "one_letter": "d",
        "name_and_city": rng.choice(names)[:4].lower() + " biarritz",
        "postal_code": "64200",
        "client_number": "00012",
    }


def _measure(user, searches, runs):
    from shopsms.extensions import db
    from shopsms.services import client_search

    timings = {}
    for label, typed in searches.items():
        client_search.search(user, typed)  # warm the caches once
        samples, total = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            page = client_search.search(user, typed)
            samples.append((time.perf_counter() - started) * 1000)
            total = page.total
            db.session.rollback()
        samples.sort()
        timings[label] = {
            "typed": typed,
            "matches": total,
            "more": getattr(page, "more", False),
            "median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        }
    return timings


def run(count):
    os.environ.setdefault("SHOPSMS_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
    from flask_migrate import upgrade

    from shopsms import create_app
    from shopsms.extensions import db

    rng = random.Random(count)
    with throwaway_database("shopsms-bench-search") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "redis://unused"})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            stores, names, phones = _fill(count, rng)
            load_seconds = time.perf_counter() - started
            searches = _searches(rng, names, phones)
            head_office = SimpleNamespace(store_id=None, has_role=lambda role: True)
            staff = SimpleNamespace(store_id=stores[0], has_role=lambda role: role == "staff")
            result = {
                "benchmark": "client_search",
                "database": make_url(url).get_backend_name(),
                "clients": count,
                "load_seconds": round(load_seconds, 1),
                "runs": RUNS,
                "head_office": _measure(head_office, searches, RUNS),
                "store_staff": _measure(staff, searches, RUNS),
            }
            db.session.remove()
            db.engine.dispose()
    print(json.dumps(result, ensure_ascii=False))


def main():
    for count in SIZES:
        run(count)


if __name__ == "__main__":
    main()
