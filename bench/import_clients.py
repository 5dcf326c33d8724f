"""Importing a point-of-sale client file of 1,000,000 rows (BENCH_IMPORT_ROWS): rows per
second for a first import and for a second one of the same file (every row unchanged:
what a nightly re-export costs), and the peak memory of the process, which must stay
bounded (the file is streamed in batches, never loaded). Generates the CSV in a temp
dir; prints JSON. DATABASE_URL picks the database (default a fresh SQLite file)."""

import csv
import json
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import make_url

from bench._db import throwaway_database

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "1000000"))
STORES = ("001", "002", "003")
LAST = ("DUPONT", "ETCHEGARAY", "Bérard", "MOREAU", "LAFFITTE", "Iturralde")
FIRST = ("Amélie", "Jean", "Hélène", "François", "Zoé", "Loïc")


def write_file(path, rows):
    rng = random.Random(1)
    with open(path, "w", encoding="utf-8", newline="") as file:
        out = csv.writer(file, delimiter=";")
        out.writerow(["Code client", "N° client", "Magasin", "Civilité", "Nom", "Prénom",
                      "Adresse", "CP", "Ville", "Tél. 1", "E-mail", "Date de naissance",
                      "Accord SMS"])  # fmt: skip
        for n in range(1, rows + 1):
            mobile = f"06{rng.randrange(10**8):08d}"
            out.writerow([
                f"B{n:08d}", f"{n:08d}", rng.choice(STORES), rng.choice(("Mme", "M.")),
                rng.choice(LAST), rng.choice(FIRST), f"{n % 200} rue des Halles", "64200",
                "Biarritz", mobile, f"c{n}@example.fr" if n % 2 else "",
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2005)}",
                ("Oui", "Non", "")[n % 3],
            ])  # fmt: skip


def peak_rss_mib():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def import_once(imports, source):
    copy = imports.import_path()
    shutil.copyfile(source, copy)
    run = imports.start(copy, kind="clients", filename="clients.csv")
    imports.confirm(run.id, run.mapping, enqueue=False)
    started = time.perf_counter()
    run = imports.run(run.id)
    seconds = time.perf_counter() - started
    # Plain values: the next run's batches empty the session.
    counts = ("rows_read", "rows_created", "rows_unchanged", "rows_rejected")
    return SimpleNamespace(**{name: getattr(run, name) for name in counts}), seconds


def main():
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ.setdefault("SHOPSMS_INSTANCE_PATH", str(folder / "instance"))
    from flask_migrate import upgrade

    from shopsms import create_app
    from shopsms.extensions import db
    from shopsms.models import Store
    from shopsms.services import imports

    try:
        source = folder / "clients.csv"
        started = time.perf_counter()
        write_file(source, ROWS)
        generated = time.perf_counter() - started
        with throwaway_database("shopsms-bench-import") as url:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "redis://unused"})
            with app.app_context():
                upgrade()
                for code in STORES:
                    db.session.add(Store(code=code, name=f"Magasin {code}"))
                db.session.commit()
                rss_before = peak_rss_mib()
                run, seconds = import_once(imports, source)
                again, again_seconds = import_once(imports, source)
                result = {
                    "benchmark": "import_clients",
                    "database": make_url(url).get_backend_name(),
                    "rows": run.rows_read,
                    "created": run.rows_created,
                    "rejected": run.rows_rejected,
                    "file_mib": round(source.stat().st_size / 2**20, 1),
                    "generate_seconds": round(generated, 1),
                    "seconds": round(seconds, 1),
                    "rows_per_second": round(run.rows_read / seconds),
                    "reimport_unchanged": again.rows_unchanged,
                    "reimport_seconds": round(again_seconds, 1),
                    "reimport_rows_per_second": round(again.rows_read / again_seconds),
                    "peak_rss_mib_before_import": rss_before,
                    "peak_rss_mib": peak_rss_mib(),
                }
                db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
