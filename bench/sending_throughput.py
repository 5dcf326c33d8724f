"""Messages per second from "queued" to "submitted" through the outbox gateway with one
worker, beside the limit measured in the same run (the same rows updated by primary key
in batches, plain SQL), and the worker's peak memory at two sizes (it must stay flat).

DATABASE_URL picks the database (default a fresh SQLite file; on PostgreSQL a throw-away
database on that server). BENCH_SENDING_SIZES="100000,1000000" sets the sizes.
Aim: ≥ 10,000 messages/s on PostgreSQL, memory within 20 % between the two sizes.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from bench._db import throwaway_database

SIZES = [int(n) for n in os.environ.get("BENCH_SENDING_SIZES", "100000,1000000").split(",")]


def _app(url, redis_url):
    from shopsms import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url})


def prepare(url, size, redis_url):
    """A queued campaign of `size` messages (its own process: building rows takes memory)."""
    from flask_migrate import upgrade

    from shopsms.extensions import db
    from shopsms.models import Campaign, Message
    from shopsms.models.base import bulk_insert
    from shopsms.services import campaigns, credits

    app = _app(url, redis_url)
    with app.app_context():
        upgrade()
        credits.top_up(size, reference="bench")
        campaign = Campaign(kind="single", name="bench", sender_id="BENCH")
        db.session.add(campaign)
        db.session.flush()
        body = "Votre commande est prête. Bijouterie Showroom"
        for start in range(0, size, 50_000):
            rows = [
                {"campaign_id": campaign.id, "phone": f"+3361{n:08d}", "text": body,
                 "parts": 1, "state": "pending"}
                for n in range(start, min(start + 50_000, size))
            ]  # fmt: skip
            bulk_insert(Message, rows)
        campaign.recipients_count = size
        db.session.commit()
        campaigns.queue_now(campaign.id)
        return {"campaign_id": campaign.id}


def send(url, campaign_id, redis_url):
    """What one worker does, alone in its process: its peak memory is the sending's."""
    from shopsms.services import campaigns, sending

    app = _app(url, redis_url)
    with app.app_context():
        started = time.perf_counter()
        while not sending.send_next_batch(campaign_id, worker="bench").done:
            pass
        seconds = time.perf_counter() - started
        submitted = campaigns.progress(campaign_id)["submitted"]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"submitted": submitted, "seconds": seconds, "peak_mib": peak_kib / 1024}


def limit(url, redis_url):
    """The same rows, updated by primary key in batches of the outbox batch size."""
    from sqlalchemy import select, text

    from shopsms.extensions import db
    from shopsms.models import Message
    from shopsms.services import settings

    app = _app(url, redis_url)
    with app.app_context():
        batch = settings.get("batch_size")["outbox"]
        ids = list(db.session.scalars(select(Message.id).order_by(Message.id)))
        started = time.perf_counter()
        for start in range(0, len(ids), batch):
            in_list = ",".join(map(str, ids[start : start + batch]))
            db.session.execute(
                text(f"UPDATE messages SET state = 'submitted', submitted_at = CURRENT_TIMESTAMP "
                     f"WHERE id IN ({in_list})")
            )  # fmt: skip
            db.session.commit()
        seconds = time.perf_counter() - started
    return {"rows_per_second": len(ids) / seconds}


def _child(call):
    child = subprocess.run(
        [sys.executable, "-c", f"import json, bench.sending_throughput as b; "
         f"print(json.dumps({call}))"],
        capture_output=True, text=True,
    )  # fmt: skip
    if child.returncode:
        raise RuntimeError(child.stderr[-2000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


def run_one(url, size):
    from shopsms.queue import EmbeddedRedis

    instance = tempfile.mkdtemp(prefix="bench-send-")
    os.environ["SHOPSMS_INSTANCE_PATH"] = instance
    redis = EmbeddedRedis(instance).start()  # ours, shared by the children
    try:
        campaign_id = _child(f"b.prepare({url!r}, {size}, {redis.url!r})")["campaign_id"]
        sent = _child(f"b.send({url!r}, {campaign_id}, {redis.url!r})")
        best = _child(f"b.limit({url!r}, {redis.url!r})")
    finally:
        redis.stop()
    rate = sent["submitted"] / sent["seconds"]
    return {
        "recipients": size,
        "submitted": sent["submitted"],
        "seconds": round(sent["seconds"], 2),
        "messages_per_second": round(rate),
        "limit_rows_per_second": round(best["rows_per_second"]),
        "share_of_limit": round(rate / best["rows_per_second"], 3),
        "worker_peak_mib": round(sent["peak_mib"], 1),
    }


def main():
    runs = []
    for size in SIZES:
        with throwaway_database("shopsms-bench-send") as url:
            runs.append(run_one(url, size))
    memory = [run["worker_peak_mib"] for run in runs]
    print(
        json.dumps(
            {
                "benchmark": "sending_throughput",
                "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
                "gateway": "outbox",
                "runs": runs,
                "memory_growth": round(max(memory) / min(memory) - 1, 3) if memory else None,
                "aim_messages_per_second": 10_000,
                "aim_memory_growth": 0.2,
            }
        )
    )


if __name__ == "__main__":
    main()
