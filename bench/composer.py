"""The campaign composer's live cost as a person types: the HTTP round trip of « aperçu »
(POST /composer/apercu, what htmx sends at each pause in the typing) on a marketing draft
of 100,000 recipients with « <PRENOM> <NOM> », against the same on a draft of one
recipient, interleaved, each request with a text one character longer (as typed). Both
drafts are built by the real selection (recipients.draft_from_selection). Prints
composer_p95_ratio_100k_over_1 (goal <= 2) with the p50/p95 of each, and the machine's
load (other work shares its cores).

DATABASE_URL picks the database (default a fresh SQLite file; PostgreSQL: a throw-away
database on that server). BENCH_COMPOSER_RECIPIENTS (100000), BENCH_COMPOSER_RUNS (30).
"""

import json
import os
import statistics
import tempfile
import time

from sqlalchemy import make_url

from bench._db import throwaway_database

RECIPIENTS = int(os.environ.get("BENCH_COMPOSER_RECIPIENTS", "100000"))
RUNS = int(os.environ.get("BENCH_COMPOSER_RUNS", "30"))
PASSWORD = "bench-password"
FIRST = ["Anne", "Jean", "Élodie", "Françoise", "Marc", "Zoé", "Hervé", "Inès", "Luc", "Léa"]
LAST = ["MARTIN", "DUPONT", "LÉVÊQUE", "ETCHEVERRY", "LE GALL", "O'NEIL", "BERGARA", "ARTOLA"]


def _fill(app):
    from shopsms.extensions import db
    from shopsms.models import Client, Store
    from shopsms.models.base import bulk_insert
    from shopsms.services.users import create_user

    with app.app_context():
        store = Store(code="001", name="Biarritz", city="Biarritz")
        db.session.add(store)
        db.session.commit()
        create_user("siege", PASSWORD, "admin", None, "Claire Siège")
        rows = []
        for n in range(1, RECIPIENTS + 2):
            rows.append(
                {
                    "number": f"{n:07d}",
                    "civility": ("M", "Mme", "Mlle")[n % 3],
                    "first_name": FIRST[n % len(FIRST)]
                    + ("-" + FIRST[n % 7] if n % 5 == 0 else ""),
                    "last_name": LAST[n % len(LAST)] + ("X" * (n % 13)),
                    "search_name": "",
                    "store_id": store.id,
                    "sms_consent": "accepted",
                    "tel1": f"06{n:08d}",
                    "sms_number": f"+336{n:08d}",
                    "postal_code": "64200" if n <= RECIPIENTS else "75009",
                }
            )
            if len(rows) == 50_000:
                bulk_insert(Client, rows)
                rows = []
        bulk_insert(Client, rows)
        db.session.commit()
        return store.id


def _drafts(app, store_id):
    from shopsms import selection
    from shopsms.extensions import db
    from shopsms.models import User
    from shopsms.services import recipients

    with app.app_context():
        admin = db.session.query(User).filter_by(username="siege").one()
        big = recipients.draft_from_selection(
            admin, selection.Criteria(postal_code="64200"), store_id=store_id
        )
        small = recipients.draft_from_selection(
            admin, selection.Criteria(postal_code="75009"), store_id=store_id
        )
        ids = big.id, small.id
        counts = [recipients.summary(i).recipients for i in ids]
        db.session.remove()
        return ids, counts


def _percentile(samples, share):
    samples = sorted(samples)
    return round(samples[max(0, int(len(samples) * share) - 1)] * 1000, 1)


def run():
    os.environ.setdefault("SHOPSMS_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-composer-"))
    from flask_migrate import upgrade

    from shopsms import create_app

    with throwaway_database("shopsms-bench-composer") as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
        started = time.perf_counter()
        store_id = _fill(app)
        (big, small), counts = _drafts(app, store_id)
        load = time.perf_counter() - started
        http = app.test_client()
        login = {"username": "siege", "password": PASSWORD}
        assert http.post("/connexion", data=login).status_code == 302
        body = "Bonjour <PRENOM> <NOM>, -20 % sur toute la bijouterie ce week-end"
        samples = {big: [], small: []}
        for n in range(RUNS + 1):
            typed = body + " !" * (n % 5) + "x" * n
            for campaign_id in (big, small):  # interleaved: the load falls on both alike
                form = {
                    "kind": "marketing",
                    "body": typed,
                    "add_stop": "1",
                    "campaign_id": str(campaign_id),
                    "store_id": str(store_id),
                }
                began = time.perf_counter()
                response = http.post("/composer/apercu", data=form)
                elapsed = time.perf_counter() - began
                assert response.status_code == 200, response.status_code
                if n:  # the first one reads the list (once per set of recipients)
                    samples[campaign_id].append(elapsed)
        result = {
            "benchmark": "composer",
            "database": make_url(url).get_backend_name(),
            "recipients": {"big": counts[0], "small": counts[1]},
            "runs": RUNS,
            "load_seconds": round(load, 1),
            "big_p50_ms": round(statistics.median(samples[big]) * 1000, 1),
            "big_p95_ms": _percentile(samples[big], 0.95),
            "small_p50_ms": round(statistics.median(samples[small]) * 1000, 1),
            "small_p95_ms": _percentile(samples[small], 0.95),
            "loadavg_1m": round(os.getloadavg()[0], 1),
        }
        result["composer_p95_ratio_100k_over_1"] = round(
            result["big_p95_ms"] / result["small_p95_ms"], 2
        )
        result["goal"] = "composer_p95_ratio_100k_over_1 <= 2"
        from shopsms.extensions import db

        with app.app_context():
            db.engine.dispose()
    print(json.dumps(result))


def main():
    run()


if __name__ == "__main__":
    main()
