"""ShopSMS through a real Kannel (bearerbox, smsbox and its fake SMSC, as the peer tests
run it) against a plain client posting the same requests straight to /cgi-bin/sendsms,
in the same run, on the same Kannel: BENCH_KANNEL_MESSAGES messages (20,000) each way,
timed until the fake SMSC has printed every one of them.

The plain client is the best one we can write: one keep-alive session per thread, as
many threads as the gateway uses, the very query strings the gateway sends (same text,
same dlr-url). ShopSMS sends a campaign of that many clients through the worker's path
(claim, re-checks, hand-over, record). Aim: ratio_to_raw ≥ 0.8. DATABASE_URL picks the
database (default a fresh SQLite file). Needs Debian's kannel and kannel-extras.
"""

import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._db import throwaway_database

MESSAGES = int(os.environ.get("BENCH_KANNEL_MESSAGES", "20000"))
TEXT = "Votre montre est prête, vous pouvez venir la chercher en magasin."


def _wait_at_smsc(peer, expected, timeout):
    deadline = time.monotonic() + timeout
    while len(peer.lines()) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the fake SMSC got {len(peer.lines())} of {expected}")
        time.sleep(0.05)


def raw(peer, gateway, count):
    """The same requests, posted by plain threads with keep-alive sessions."""
    import requests

    from shopsms.gateways import OutgoingSms
    from shopsms.gateways.kannel import CONCURRENCY

    local = threading.local()

    def post(n):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        sms = OutgoingSms(10_000_000 + n, f"+33690{n:06d}", TEXT, "BIJOUX", 1)
        answer = session.get(peer.sendsms_url, params=gateway.params(sms), timeout=30)
        answer.raise_for_status()

    before = len(peer.lines())
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(post, range(count)))
    _wait_at_smsc(peer, before + count, timeout=600)
    return time.perf_counter() - started


def through_shopsms(app, peer, count):
    from sqlalchemy import insert, select

    from shopsms.extensions import db
    from shopsms.gateways import get_gateway
    from shopsms.models import Client, Store
    from shopsms.services import campaigns, credits, sending, settings
    from shopsms.services.campaigns import Recipient

    with app.app_context():
        store = Store(code="001", name="Biarritz")
        db.session.add(store)
        db.session.commit()
        db.session.execute(
            insert(Client),
            [
                {
                    "number": f"K{n:07d}",
                    "last_name": f"NOM{n}",
                    "first_name": "Jean",
                    "tel1": f"06 21 {n:06d}",
                    "sms_number": f"+33621{n:06d}",
                    "sms_consent": "accepted",
                    "store_id": store.id,
                }
                for n in range(count)
            ],
        )
        db.session.commit()
        ids = db.session.scalars(select(Client.id).order_by(Client.id)).all()
        credits.top_up(count, reference="bench")
        # No throttle of ours (the link is what is measured); batches as set by default.
        settings.put("messages_per_second", {"outbox": 0, "kannel": 0, "smpp": 0})
        campaign = campaigns.draft("repair", body=TEXT, recipients=[Recipient(i) for i in ids])
        campaigns.queue_now(campaign.id)
        gateway = get_gateway()
        before = len(peer.lines())
        started = time.perf_counter()
        while not sending.send_next_batch(campaign.id, gateway=gateway, worker="bench").done:
            pass
        _wait_at_smsc(peer, before + count, timeout=600)
        seconds = time.perf_counter() - started
        sent = campaigns.progress(campaign.id)
    return seconds, sent


def main():
    from sqlalchemy import make_url

    folder = Path(tempfile.mkdtemp(prefix="bench-kannel-"))
    os.environ.setdefault("SHOPSMS_INSTANCE_PATH", str(folder / "instance"))
    from flask_migrate import upgrade

    from shopsms import create_app
    from shopsms.gateways import get_gateway
    from shopsms.queue import EmbeddedRedis
    from tests.peers import kannel as kannel_peer

    missing = kannel_peer.missing_binaries()
    if missing:
        raise SystemExit(
            f"Kannel is needed ({', '.join(missing)}): apt-get install kannel kannel-extras"
        )
    nowhere = f"http://127.0.0.1:{kannel_peer.free_port()}"  # reports and MO go unanswered
    peer = kannel_peer.Kannel(folder, f"{nowhere}/mo").start()
    redis = EmbeddedRedis(str(folder / "instance")).start()
    try:
        with throwaway_database("shopsms-bench-kannel") as url:
            app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": url,
                    "REDIS_URL": redis.url,
                    "SMS_GATEWAY": "kannel",
                    "PUBLIC_URL": nowhere,
                    "HOOKS_SECRET": "bench",
                    "KANNEL_SENDSMS_URL": peer.sendsms_url,
                    "KANNEL_USERNAME": kannel_peer.USERNAME,
                    "KANNEL_PASSWORD": kannel_peer.PASSWORD,
                    "KANNEL_SMSC": "FAKE",
                }
            )
            with app.app_context():
                upgrade()
                gateway = get_gateway()
            raw_seconds = raw(peer, gateway, MESSAGES)
            ours_seconds, states = through_shopsms(app, peer, MESSAGES)
            with app.app_context():
                from shopsms.extensions import db

                db.engine.dispose()
            database = make_url(url).get_backend_name()
    finally:
        redis.stop()
        peer.stop()
    print(
        json.dumps(
            {
                "benchmark": "kannel",
                "database": database,
                "messages": MESSAGES,
                "load_average": os.getloadavg()[0],
                "raw_seconds": round(raw_seconds, 2),
                "raw_per_s": round(MESSAGES / raw_seconds),
                "shopsms_seconds": round(ours_seconds, 2),
                "shopsms_per_s": round(MESSAGES / ours_seconds),
                "shopsms_submitted": states["submitted"] + states["delivered"],
                "ratio_to_raw": round(raw_seconds / ours_seconds, 3),
                "aim_ratio_to_raw": 0.8,
            }
        )
    )


if __name__ == "__main__":
    main()
