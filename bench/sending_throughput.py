"""A real marketing campaign, from the « Envoyer » click to the last SMS handed to the
outbox gateway, with 1 and 2 workers, against the limit measured in the same run (the
same number of message rows updated by primary key in batches, plain SQL).

The chain: SIZE clients with their SMS numbers, each with a name of its own (so every
text differs, as in a real chain's campaign), 5 % without marketing consent, 1 % on the
STOP list, 2 % sharing a number with the client before them. The campaign is built
from a selection (the draft list), then sent by a POST to /campagnes/<id>/envoyer, the
request the button makes: its preparation job renders every text, costs and reserves
it, then real RQ workers (separate processes) claim and send its batches, with the
send-time re-checks. Each worker count gets a fresh chain of its own (same tables, same
data), and the run says how many cores the workers and PostgreSQL kept busy: on a
2-core machine two workers plus the database cannot use more than two. Also: the
« Envoyer » request's time on this draft against a 100-recipient draft, and each
worker's peak memory at every size (it must stay flat).

DATABASE_URL picks the database (default a fresh SQLite file: one worker only, SQLite
has one writer). BENCH_SENDING_SIZES="100000,1000000" sets the sizes.
Aims (PostgreSQL): two_workers_speedup ≥ 1.5, ratio_to_limit ≥ 0.25, worker memory within
20 % between sizes, envoyer_request_ratio_100k_over_100 ≤ 2.
"""

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

from bench._db import backend_cpu_seconds, throwaway_database

SIZES = [int(n) for n in os.environ.get("BENCH_SENDING_SIZES", "100000,1000000").split(",")]
SMALL = 100  # the small draft of the « Envoyer » request comparison
PASSWORD = "bench-password-1234"


def _app(url, redis_url):
    from shopsms import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False}
    )


def seed(url, size, redis_url):
    """The chain: one store, `size` clients (and SMALL more in postal code 99), head
    office's login, credits, sending hours always open."""
    from flask_migrate import upgrade
    from sqlalchemy import text as sql

    from shopsms.extensions import db
    from shopsms.models import Client, OptOut, Store
    from shopsms.models.base import bulk_insert
    from shopsms.services import credits, settings
    from shopsms.services.users import create_user

    app = _app(url, redis_url)
    with app.app_context():
        upgrade()
        store = Store(code="001", name="Biarritz")
        db.session.add(store)
        db.session.commit()
        create_user("siege", PASSWORD, "admin")
        settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
        settings.put("sending_start", "00:00")
        settings.put("sending_end", "23:59")
        credits.top_up(4 * (size + SMALL), reference="bench")
        total = size + SMALL
        for start in range(0, total, 50_000):
            rows, optouts = [], []
            for n in range(start, min(start + 50_000, total)):
                number = n - 1 if n % 50 == 49 else n  # 2 %: the previous client's number
                phone = f"+3361{number:07d}"
                rows.append(
                    {
                        "number": f"{n:09d}",
                        "last_name": f"NOM{n}",
                        "first_name": "Amélie",
                        "civility": "Madame",
                        "store_id": store.id,
                        "tel1": f"061{number:07d}",
                        "sms_number": phone,
                        "postal_code": "99100" if n >= size else "64200",
                        "sms_consent": "unknown" if n % 20 == 7 else "accepted",
                    }
                )
                if n % 100 == 3:
                    optouts.append({"phone": phone, "source": "sms"})
            bulk_insert(Client, rows)
            bulk_insert(OptOut, optouts)
            db.session.commit()
        # A chain's tables as its database knows them day to day (autovacuum analyzes a
        # table once a tenth of it changed): not a million rows just written and never
        # read, for which the planner guesses 700 clients and hashes them all per batch.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sql("VACUUM ANALYZE" if c.dialect.name == "postgresql" else "ANALYZE"))
    return {"clients": total}


def draft(url, redis_url, postal_code):
    """Head office's selection → a marketing draft (the « Liste des destinataires »)."""
    from shopsms import selection
    from shopsms.extensions import db
    from shopsms.models import User
    from shopsms.services import recipients

    app = _app(url, redis_url)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "siege"))
        campaign = recipients.draft_from_selection(
            user, selection.Criteria(postal_code=postal_code)
        )
        found = recipients.summary(campaign.id).recipients
        return {"campaign_id": campaign.id, "recipients": found}


def _envoyer(app, campaign_id):
    """The « Envoyer » POST of a logged-in head office, timed (ms)."""
    web = app.test_client()
    web.post("/connexion", data={"username": "siege", "password": PASSWORD})
    web.get(f"/campagnes/{campaign_id}")  # the draft page the button is on
    body = "Bonjour <PRENOM> <NOM>, -20 % sur toute la boutique ce week-end chez <MAGASIN>."
    started = time.perf_counter()
    answer = web.post(
        f"/campagnes/{campaign_id}/envoyer", data={"body": body, "sender_id": "BIJOUX"}
    )
    ms = (time.perf_counter() - started) * 1000
    if answer.status_code != 302:
        raise RuntimeError(f"« Envoyer » answered {answer.status_code}: {answer.text[:500]}")
    return ms


def worker(url, redis_url, instance):
    """One RQ worker process (the app's Worker class), until it is told to stop."""
    os.environ.update(DATABASE_URL=url, REDIS_URL=redis_url, SHOPSMS_INSTANCE_PATH=instance)
    from shopsms.queue import get_queue
    from shopsms.worker import Worker

    app = _app(url, redis_url)
    with app.app_context():
        queue = get_queue()
        Worker([queue], connection=queue.connection).work()  # till SIGTERM
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_mib": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


def limit(url, redis_url, campaign_id):
    """The campaign's message rows, updated by primary key in batches of the outbox
    batch size: what the database alone can do."""
    from sqlalchemy import select, text

    from shopsms.extensions import db
    from shopsms.models import Message
    from shopsms.services import settings

    app = _app(url, redis_url)
    with app.app_context():
        batch = settings.get("batch_size")["outbox"]
        ids = list(
            db.session.scalars(
                select(Message.id).where(Message.campaign_id == campaign_id).order_by(Message.id)
            )
        )
        started = time.perf_counter()
        for start in range(0, len(ids), batch):
            in_list = ",".join(map(str, ids[start : start + batch]))
            db.session.execute(
                text(
                    f"UPDATE messages SET state = 'submitted', submitted_at = CURRENT_TIMESTAMP "
                    f"WHERE id IN ({in_list})"
                )
            )
            db.session.commit()
        seconds = time.perf_counter() - started
    return {"rows_per_second": len(ids) / seconds}


def _child(call):
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import json, bench.sending_throughput as b; print('RESULT ' + json.dumps({call}))",
        ],
        capture_output=True,
        text=True,
    )
    found = re.findall(r"^RESULT (.*)$", child.stdout, re.M)
    if child.returncode or not found:
        raise RuntimeError(child.stderr[-3000:])
    return json.loads(found[-1])


def _start_worker(url, redis_url, instance):
    call = f"b.worker({url!r}, {redis_url!r}, {instance!r})"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import json, bench.sending_throughput as b; print('RESULT ' + json.dumps({call}))",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _database_cpu_seconds(app):
    from shopsms.extensions import db

    with app.app_context():
        seconds = backend_cpu_seconds(db.session.connection())
        db.session.rollback()
    return seconds


def send_with(url, redis_url, instance, workers, campaign_id, app):
    """« Envoyer » on the draft, `workers` workers already listening; seconds until the
    campaign is sent, the workers' peak memory and CPU, and the database's CPU."""
    from rq import Worker

    from shopsms.extensions import db
    from shopsms.models import Campaign
    from shopsms.queue import get_queue

    processes = [_start_worker(url, redis_url, instance) for _ in range(workers)]
    with app.app_context():
        queue = get_queue()
        deadline = time.monotonic() + 60
        while Worker.count(queue=queue) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start")
            time.sleep(0.1)
        database_cpu = _database_cpu_seconds(app)
        started = time.perf_counter()
        request_ms = _envoyer(app, campaign_id)
        while True:
            db.session.rollback()
            status = db.session.scalar(db.select(Campaign.status).where(Campaign.id == campaign_id))
            if status in ("sent", "draft", "cancelled"):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        note = db.session.scalar(db.select(Campaign.status_note).where(Campaign.id == campaign_id))
    if status != "sent":
        raise RuntimeError(f"campaign {campaign_id} ended {status}: {note}")
    # The workers' backends are still connected: their CPU since the click.
    database_cpu_after = _database_cpu_seconds(app)
    if database_cpu is not None and database_cpu_after is not None:
        database_cpu = database_cpu_after - database_cpu
    else:
        database_cpu = None
    peaks, cpu = [], []
    for process in processes:
        process.terminate()  # RQ's warm shutdown: the worker says its peak memory
    for process in processes:
        out, _ = process.communicate(timeout=120)
        # Its log beside the run's files: where a slow run lost its time.
        with open(os.path.join(instance, f"worker-{process.pid}.log"), "a") as log:
            log.write(out)
        found = re.findall(r"^RESULT (.*)$", out, re.M)
        peaks.append(json.loads(found[-1])["peak_mib"] if found else None)
        cpu.append(json.loads(found[-1])["cpu_s"] if found else None)
    return {
        "seconds": seconds,
        "request_ms": request_ms,
        "peaks": peaks,
        "cpu": cpu,
        "database_cpu": database_cpu,
    }


def run_one(size, workers):
    """A fresh chain of `size` clients in a database of its own, its campaign sent with
    `workers` workers: every worker count meets the same tables (the second campaign
    is never sent over the first one's message rows)."""
    from sqlalchemy import make_url

    from shopsms.extensions import db
    from shopsms.models import Message
    from shopsms.queue import EmbeddedRedis

    instance = tempfile.mkdtemp(prefix="bench-send-")
    os.environ["SHOPSMS_INSTANCE_PATH"] = instance
    redis = EmbeddedRedis(instance).start()  # ours, shared by the children
    try:
        with throwaway_database("shopsms-bench-send") as url:
            postgresql = make_url(url).get_backend_name() == "postgresql"
            _child(f"b.seed({url!r}, {size}, {redis.url!r})")
            app = _app(url, redis.url)
            result = {"clients": size, "workers": workers, "postgresql": postgresql}
            # The request alone, on a 100-recipient draft (its sending is not timed); the
            # first one warms the app up (templates, connections), the second is timed.
            for _ in range(2):
                small = _child(f"b.draft({url!r}, {redis.url!r}, '99')")
                small_run = send_with(url, redis.url, instance, 1, small["campaign_id"], app)
            built = _child(f"b.draft({url!r}, {redis.url!r}, '64')")
            run = send_with(url, redis.url, instance, workers, built["campaign_id"], app)
            with app.app_context():
                sent = db.session.scalar(
                    db.select(db.func.count(Message.id)).where(
                        Message.campaign_id == built["campaign_id"],
                        Message.state.in_(("submitted", "delivered")),
                    )
                )
            workers_cpu = sum(c for c in run["cpu"] if c)
            result |= {
                "recipients": built["recipients"],
                "submitted": sent,
                "seconds": round(run["seconds"], 2),
                "marketing_per_s": round(sent / run["seconds"]),
                "envoyer_request_ms": round(run["request_ms"], 1),
                "envoyer_request_ms_100": round(small_run["request_ms"], 1),
                "worker_peak_mib": [round(p, 1) for p in run["peaks"] if p],
                # Where the time went: the workers' own CPU and PostgreSQL's backends'
                # (this database's) over the sending, in cores busy on average.
                "workers_cpu_s": round(workers_cpu, 1),
                "database_cpu_s": run["database_cpu"] and round(run["database_cpu"], 1),
                "cores_busy": round((workers_cpu + (run["database_cpu"] or 0)) / run["seconds"], 2),
            }
            if workers == 1:  # the database's limit, measured beside each 1-worker run
                best = _child(f"b.limit({url!r}, {redis.url!r}, {built['campaign_id']})")
                result["limit_rows_per_s"] = round(best["rows_per_second"])
            with app.app_context():
                db.engine.dispose()
    finally:
        redis.stop()
    return result


REPEATS = int(os.environ.get("BENCH_SENDING_REPEATS", "2"))


def _median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def main():
    """On PostgreSQL the first size runs 1 and 2 workers REPEATS times each, in
    alternating order (1, 2, 2, 1, …): a machine whose load drifts during the run
    weighs on both counts alike; the figures are the medians. Every run says the load
    when it started. The other sizes run 1 worker (its memory)."""
    postgresql = bool(os.environ.get("DATABASE_URL"))
    runs = []
    for size in SIZES:
        order = [1]
        if postgresql and size == SIZES[0]:
            order = [n for r in range(REPEATS) for n in ((1, 2) if r % 2 == 0 else (2, 1))]
        for workers in order:
            load = os.getloadavg()[0]
            runs.append(run_one(size, workers) | {"load_average_at_start": round(load, 2)})
    first = [run for run in runs if run["clients"] == SIZES[0]]
    per_s = {
        n: _median([run["marketing_per_s"] for run in first if run["workers"] == n])
        for n in (1, 2)
        if any(run["workers"] == n for run in first)
    }
    one, two = per_s[1], per_s.get(2)
    ones = [run for run in first if run["workers"] == 1]
    limit = _median([run["limit_rows_per_s"] for run in ones])
    memory = {
        size: max(
            run["worker_peak_mib"][0]
            for run in runs
            if run["workers"] == 1 and run["clients"] == size
        )
        for size in SIZES
    }
    request_ms = _median([run["envoyer_request_ms"] for run in ones])
    request_ms_100 = _median([run["envoyer_request_ms_100"] for run in ones])
    print(
        json.dumps(
            {
                "benchmark": "sending_throughput",
                "database": "postgresql" if postgresql else "sqlite",
                "gateway": "outbox",
                "cpu_count": os.cpu_count(),
                "load_average": os.getloadavg(),
                "runs": runs,
                "marketing_per_s": {"1": one, "2": two},
                "two_workers_speedup": round(two / one, 2) if two else None,
                "two_workers_speedup_each": [
                    round(b["marketing_per_s"] / a["marketing_per_s"], 2)
                    for a, b in zip(
                        ones, [run for run in first if run["workers"] == 2], strict=False
                    )
                ],
                "cores_busy": {
                    str(n): _median([run["cores_busy"] for run in first if run["workers"] == n])
                    for n in per_s
                },
                "limit_rows_per_s": limit,
                "ratio_to_limit": round(max(one, two or 0) / limit, 3),
                "worker_rss_mib": {str(size): mib for size, mib in memory.items()},
                "worker_rss_growth": round(max(memory.values()) / min(memory.values()) - 1, 3),
                "envoyer_request_ms": request_ms,
                "envoyer_request_ratio_100k_over_100": round(request_ms / request_ms_100, 2),
                "aims": {
                    "two_workers_speedup": 1.5,
                    "ratio_to_limit": 0.25,
                    "worker_rss_growth": 0.2,
                    "envoyer_request_ratio_100k_over_100": 2,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
