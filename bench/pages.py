"""The pages a chain's people open all day, with 8 of them at once (issue 15): home, the
client list and a search in it, a client card, the selection's live count, a draft's
recipient list, the reports list, a report's detail and the credits page, on 200,000
clients in PostgreSQL. The server is the documented `flask serve` web part (gunicorn,
gthread, cli.gunicorn_options) on 127.0.0.1; 8 threads, each a logged-in head office
user with its own connection, open every page in turn (each in its own order), ROUNDS
times. Prints p50/p95 per page and worst_p95_ratio_over_home (goal <= 3): the slowest
page's p95 over the home page's, measured under the same load in the same run.

PostgreSQL comes from BENCH_POSTGRES_URL (default: DATABASE_URL if it is PostgreSQL,
else postgresql://root@127.0.0.1:5432/postgres); the run uses a throw-away database.
BENCH_PAGES_CLIENTS (200000), BENCH_PAGES_REPORT (100000 SMS in the report),
BENCH_PAGES_ROUNDS (8), BENCH_REDIS_URL (redis://127.0.0.1:6379/15).
"""

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import make_url, text

from bench._db import throwaway_database

CLIENTS = int(os.environ.get("BENCH_PAGES_CLIENTS", "200000"))
REPORT = int(os.environ.get("BENCH_PAGES_REPORT", "100000"))
ROUNDS = int(os.environ.get("BENCH_PAGES_ROUNDS", "8"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
USERS = 8
PASSWORD = "bench-password"
ROOT = Path(__file__).resolve().parent.parent


def _postgres_url():
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else "postgresql://root@127.0.0.1:5432/postgres"


def _fill(app):
    """Stores, head office, CLIENTS clients (bench.client_search's rows: names from a
    pool, French phones, derived columns) with a purchase each, a sent campaign of REPORT
    SMS, a marketing draft of one department's clients, and credits bought."""
    from faker import Faker

    from bench.client_search import _clients
    from shopsms import selection
    from shopsms.extensions import db
    from shopsms.models import Campaign, Client, Purchase, Store, User
    from shopsms.models.base import bulk_insert
    from shopsms.services import credits, recipients
    from shopsms.services.users import create_user

    rng = random.Random(CLIENTS)
    with app.app_context():
        stores = []
        for n in range(1, 21):
            store = Store(code=f"{n:03d}", name=f"Bijouterie {n}", city=f"Ville {n}")
            db.session.add(store)
            db.session.flush()
            stores.append(store.id)
        db.session.commit()
        create_user("siege", PASSWORD, "admin", None, "Claire Siège")
        fake = Faker("fr_FR")
        fake.seed_instance(1)
        names = sorted({fake.last_name().upper() for _ in range(3000)})
        first_names = sorted({fake.first_name() for _ in range(600)})
        for rows in _clients(rng, stores, CLIENTS, names, first_names):
            bulk_insert(Client, rows)
            db.session.commit()
        first_id, last_id = db.session.execute(text("SELECT min(id), max(id) FROM clients")).one()
        today = time.strftime("%Y-%m-%d")
        purchases = [
            {
                "client_id": client_id,
                "store_id": rng.choice(stores),
                "date": today,
                "amount": rng.randrange(2000, 90000) / 100,
            }
            for client_id in range(first_id, last_id + 1)
        ]
        for start in range(0, len(purchases), 50_000):
            bulk_insert(Purchase, purchases[start : start + 50_000])
            db.session.commit()
        campaign = Campaign(
            kind="marketing",
            status="sent",
            name="Soldes d'hiver",
            store_id=stores[0],
            sender_id="BIJOUX",
            recipients_count=REPORT,
            body="Bonjour <PRENOM>, soldes !",
            started_at=db.func.now(),
            finished_at=db.func.now(),
        )
        db.session.add(campaign)
        db.session.commit()
        db.session.execute(
            text(
                "INSERT INTO messages (campaign_id, client_id, phone, text, parts, state, "
                "skip_reason, error, gateway, created_at, submitted_at, done_at) "
                "SELECT :campaign, :first + n % :clients, '+336' || lpad(n::text, 8, '0'), "
                "'Bonjour Anne, -20 % sur tout le magasin ce week-end !' || chr(10) "
                "|| 'STOP 36608', 1, CASE WHEN n % 20 = 0 THEN 'failed' ELSE 'delivered' END, "
                "'', CASE WHEN n % 20 = 0 THEN 'Numéro inexistant' ELSE '' END, 'outbox', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
                "FROM generate_series(1, :count) AS s(n)"
            ),
            {"campaign": campaign.id, "first": first_id, "clients": CLIENTS, "count": REPORT},
        )
        db.session.commit()
        admin = db.session.query(User).filter_by(username="siege").one()
        credits.top_up(1_000_000, reference="Bench", user=admin)
        db.session.commit()
        # What autovacuum does after a load: without statistics, the draft's marketing
        # pressure check joins 100,000 fresh messages by a nested loop (minutes).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        draft = recipients.draft_from_selection(admin, selection.Criteria(postal_code="64200"))
        ids = {
            "report": campaign.id,
            "draft": draft.id,
            "clients": (first_id, last_id),
            "names": names,
        }
        db.session.remove()
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    return ids


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(url, instance):
    """The web part of `flask serve`: gunicorn with the options it documents."""
    from shopsms.cli import gunicorn_options

    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, SHOPSMS_INSTANCE_PATH=instance)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            *gunicorn_options(),
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                requests.get(f"{base}/connexion", timeout=60)
                return server, base
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)  # waiting for the server to listen, not for a result
        raise RuntimeError("gunicorn did not start")
    except BaseException:
        server.terminate()  # never left behind
        server.wait(timeout=30)
        raise


def _login(base):
    http = requests.Session()
    page = http.get(f"{base}/connexion", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = http.post(
        f"{base}/connexion",
        timeout=30,
        allow_redirects=False,
        data={"csrf_token": token, "username": "siege", "password": PASSWORD},
    )
    assert answer.status_code == 302, answer.status_code
    return http


def _pages(ids, rng):
    first, last = ids["clients"]
    prefix = rng.choice(ids["names"])[:3].lower()
    return {
        "home": "/",
        "client_list": "/clients/",
        "client_search": f"/clients/?q={prefix}",
        "client_card": f"/clients/{rng.randint(first, last)}",
        "live_count": "/campagnes/nouvelle/compte?postal_code=64&sms=with",
        "recipient_list": f"/campagnes/{ids['draft']}/destinataires",
        "reports_list": "/rapports/",
        "report_detail": f"/rapports/{ids['report']}",
        "credits": "/credits/",
    }


def _user(base, ids, seed, samples, lock):
    rng = random.Random(seed)
    http = _login(base)
    for round_ in range(ROUNDS + 1):
        pages = list(_pages(ids, rng).items())
        rng.shuffle(pages)  # each user in their own order: every page meets every other
        for name, path in pages:
            began = time.perf_counter()
            answer = http.get(base + path, timeout=120)
            elapsed = time.perf_counter() - began
            assert answer.status_code == 200, (path, answer.status_code)
            if round_:  # the first round warms the workers' caches
                with lock:
                    samples.setdefault(name, []).append(elapsed)


def _p(samples, share):
    samples = sorted(samples)
    return round(samples[max(0, int(len(samples) * share) - 1)] * 1000, 1)


def run():
    from flask_migrate import upgrade

    from shopsms import create_app

    instance = tempfile.mkdtemp(prefix="bench-pages-")
    os.environ.setdefault("SHOPSMS_INSTANCE_PATH", instance)
    os.environ["DATABASE_URL"] = _postgres_url()
    with throwaway_database("shopsms-bench-pages") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": REDIS_URL})
        with app.app_context():
            upgrade()
        started = time.perf_counter()
        ids = _fill(app)
        load = time.perf_counter() - started
        server, base = _serve(url, instance)
        try:
            samples, lock = {}, threading.Lock()
            with ThreadPoolExecutor(max_workers=USERS) as pool:
                users = [
                    pool.submit(_user, base, ids, seed, samples, lock) for seed in range(USERS)
                ]
                for user in users:
                    user.result()
        finally:
            server.terminate()
            server.wait(timeout=30)
    pages = {
        name: {
            "p50_ms": round(statistics.median(taken) * 1000, 1),
            "p95_ms": _p(taken, 0.95),
            "requests": len(taken),
        }
        for name, taken in samples.items()
    }
    home = pages["home"]["p95_ms"]
    worst = max(pages, key=lambda name: pages[name]["p95_ms"])
    result = {
        "benchmark": "pages",
        "database": make_url(url).get_backend_name(),
        "clients": CLIENTS,
        "report_sms": REPORT,
        "users": USERS,
        "rounds": ROUNDS,
        "load_seconds": round(load, 1),
        "pages": pages,
        "worst_page": worst,
        "worst_p95_ratio_over_home": round(pages[worst]["p95_ms"] / home, 2),
        "goal": "worst_p95_ratio_over_home <= 3",
        "loadavg_1m": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(result))


def main():
    run()


if __name__ == "__main__":
    main()
