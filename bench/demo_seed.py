"""How long the demo chain takes to load: the target is 50,000 clients with their
purchases in under a minute. Prints JSON; DATABASE_URL picks the database (default a
fresh SQLite file); the PostgreSQL run uses a throw-away database on that server."""

import json
import os
import tempfile
import time

from sqlalchemy import make_url

from bench._db import throwaway_database

CLIENTS = int(os.environ.get("BENCH_DEMO_CLIENTS", "50000"))
TARGET_SECONDS = 60


def main():
    os.environ.setdefault("SHOPSMS_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
    from flask_migrate import upgrade

    from shopsms import create_app, demo
    from shopsms.extensions import db

    with throwaway_database("shopsms-bench-demo") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "redis://unused"})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            report = demo.seed(CLIENTS, seed=1)
            seconds = time.perf_counter() - started
            db.engine.dispose()
    print(
        json.dumps(
            {
                "benchmark": "demo_seed",
                "database": make_url(url).get_backend_name(),
                "clients": report.clients,
                "purchases": report.purchases,
                "repair_tickets": report.repair_tickets,
                "seconds": round(seconds, 2),
                "clients_per_second": round(report.clients / seconds),
                "target_seconds": TARGET_SECONDS,
                "within_target": seconds < TARGET_SECONDS,
            }
        )
    )


if __name__ == "__main__":
    main()
