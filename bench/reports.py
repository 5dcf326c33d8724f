"""« Rapports d'envoi » at a chain's size: a sending of 10,000 and of 1,000,000 SMS on
PostgreSQL (100,000 on SQLite). Through the real views (Flask's test client, head office
logged in): the reports list, the report's detail page 1 and page 1,000 (reached as a
person reaches it, by « Suivant »: its link carries the last id shown); the CSV export
(what the view streams) and the Excel export (what the job writes), each in a fresh
process for its peak RSS, against PostgreSQL's own COPY of the same columns, interleaved.
Each size has its database (a chain whose largest sending is that size, its reports list
holding that one), all kept until the end, so that the pages of every size are timed in
turn, one request of each per round: the ratios compare sizes, not the minutes at which
other work loaded the machine.

Prints one JSON line per database, with the ratios the issue sets as goals:
detail_p95_ratio_1m_over_10k (<= 1.5), list_p95_ratio_1m_over_10k (<= 1.5),
export_rss_ratio_1m_over_100k (<= 1.2) and export_csv_over_copy (>= 0.3).

PostgreSQL comes from BENCH_POSTGRES_URL (default: DATABASE_URL if it is PostgreSQL,
else postgresql://root@127.0.0.1:5432/postgres); each run uses a throw-away database.
Sizes: BENCH_REPORTS_PG_SIZES (default 10000,100000,1000000), BENCH_REPORTS_SQLITE_SIZE
(100000). The machine's load is printed with the figures: other work shares its cores.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from sqlalchemy import text

PG_SIZES = [
    int(n) for n in os.environ.get("BENCH_REPORTS_PG_SIZES", "10000,100000,1000000").split(",")
]
SQLITE_SIZE = int(os.environ.get("BENCH_REPORTS_SQLITE_SIZE", "100000"))
RUNS = int(os.environ.get("BENCH_REPORTS_RUNS", "20"))
# The Excel job above this size is left out when asked (it takes minutes on a busy machine).
XLSX_MAX = int(os.environ.get("BENCH_REPORTS_XLSX_MAX", "0")) or None
CLIENTS = 20_000
PASSWORD = "bench-password"
DEEP_PAGE = 1000


def _postgres_url():
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else "postgresql://root@127.0.0.1:5432/postgres"


def _app(url):
    from shopsms import create_app

    os.environ.setdefault("SHOPSMS_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-reports-"))
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WTF_CSRF_ENABLED": False,
        }
    )


def _setup(app):
    """Stores, head office's login and a pool of clients the messages point at."""
    from shopsms.extensions import db
    from shopsms.models import Client, Store
    from shopsms.models.base import bulk_insert
    from shopsms.services.users import create_user

    with app.app_context():
        store = Store(code="001", name="Biarritz", city="Biarritz")
        db.session.add(store)
        db.session.commit()
        create_user("siege", PASSWORD, "admin", None, "Claire Siège")
        rows = [
            {
                "number": f"{n:07d}",
                "last_name": f"NOM{n % 997}",
                "first_name": "Anne",
                "search_name": f"nom{n % 997} anne",
                "store_id": store.id,
                "sms_consent": "accepted",
                "tel1": f"06{n:08d}",
                "sms_number": f"+336{n:08d}",
            }
            for n in range(1, CLIENTS + 1)
        ]
        bulk_insert(Client, rows)
        db.session.commit()
        return store.id


def _add_campaign(app, store_id, count):
    """A finished sending of `count` SMS, its rows written by one INSERT … SELECT (the
    triggers keep its counts as they would for a real one)."""
    from shopsms.extensions import db
    from shopsms.models import Campaign

    with app.app_context():
        campaign = Campaign(
            kind="marketing",
            status="sent",
            name=f"Soldes {count}",
            store_id=store_id,
            sender_id="BIJOUX",
            recipients_count=count,
            body="Bonjour <PRENOM>, soldes !",
            started_at=db.func.now(),
            finished_at=db.func.now(),
        )
        db.session.add(campaign)
        db.session.commit()
        postgresql = db.engine.dialect.name == "postgresql"
        series = (
            "generate_series(1, :count) AS s(n)"
            if postgresql
            else "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
            "WHERE n < :count) SELECT n FROM s) AS s"
        )
        state = (
            "CASE WHEN n % 50 = 0 THEN 'skipped' WHEN n % 20 = 0 THEN 'failed' "
            "WHEN n % 33 = 0 THEN 'expired' ELSE 'delivered' END"
        )
        if postgresql:
            phone, newline = "'+336' || lpad(n::text, 8, '0')", "chr(10)"
        else:
            phone, newline = "'+336' || substr('00000000' || n, -8, 8)", "char(10)"
        db.session.execute(
            text(
                "INSERT INTO messages (campaign_id, client_id, phone, text, parts, state, "
                "skip_reason, error, gateway, created_at, submitted_at, done_at) "
                f"SELECT :campaign, 1 + n % {CLIENTS}, {phone}, "
                f"'Bonjour Anne, -20 % sur tout le magasin ce week-end !' || {newline} "
                f"|| 'STOP 36608', 1, {state}, "
                "CASE WHEN n % 50 = 0 THEN 'no_consent' ELSE '' END, "
                "CASE WHEN n % 20 = 0 AND n % 50 <> 0 THEN 'Numéro inexistant' ELSE '' END, "
                "'outbox', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
                f"FROM {series}"
            ),
            {"campaign": campaign.id, "count": count},
        )
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE" if postgresql else "ANALYZE"))
        return campaign.id


def _p95(samples):
    samples = sorted(samples)
    return round(samples[max(0, int(len(samples) * 0.95) - 1)] * 1000, 1)


def _timed(targets, runs):
    """{key: [seconds]} for targets {key: (http, url)}, asked in turn (one request of each
    per round, after a warm-up): the machine's load, which other work changes from one
    minute to the next, falls on every size alike."""
    for http, url in targets.values():
        http.get(url)  # warm
    samples = {key: [] for key in targets}
    for _ in range(runs):
        for key, (http, url) in targets.items():
            started = time.perf_counter()
            response = http.get(url)
            samples[key].append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
    return samples


def _deep_page_url(http, campaign_id, count):
    """Page `DEEP_PAGE` (or the last page of a smaller report), reached by « Suivant »:
    the id its link carries is the last of the page before, read once from the list."""
    from shopsms.extensions import db
    from shopsms.services.listings import PER_PAGE

    pages = -(-count // PER_PAGE)
    page = min(DEEP_PAGE, pages)
    after = db.session.scalar(
        text("SELECT id FROM messages WHERE campaign_id = :c ORDER BY id LIMIT 1 OFFSET :o"),
        {"c": campaign_id, "o": (page - 1) * PER_PAGE - 1},
    )
    url = f"/rapports/{campaign_id}?apres={after}&page={page}"
    body = http.get(url).text
    assert f"Page {page} sur {pages}" in body, url
    return page, url


def _measure_pages(runs):
    """runs: {size: (app, campaign_id)}, each size in its own database (a chain whose
    largest sending is that size); the pages of all sizes timed in turn."""
    from shopsms.extensions import db

    clients, deep = {}, {}
    for count, (app, campaign_id) in runs.items():
        http = app.test_client()
        response = http.post("/connexion", data={"username": "siege", "password": PASSWORD})
        assert response.status_code == 302
        with app.app_context():
            deep[count] = _deep_page_url(http, campaign_id, count)
            db.session.remove()
        clients[count] = http

    def each(url_of):
        return _timed({n: (clients[n], url_of(n, c)) for n, (_, c) in runs.items()}, RUNS)

    first = each(lambda n, c: f"/rapports/{c}")
    deeper = each(lambda n, c: deep[n][1])
    failed = each(lambda n, c: f"/rapports/{c}?etat=failed")
    listing = each(lambda n, c: "/rapports/")
    campaigns = each(lambda n, c: "/campagnes/")
    return {
        n: {
            "detail_p1_p95_ms": _p95(first[n]),
            "detail_deep_page": deep[n][0],
            "detail_deep_p95_ms": _p95(deeper[n]),
            "detail_failed_filter_p95_ms": _p95(failed[n]),
            "reports_list_p95_ms": _p95(listing[n]),
            "campaigns_list_p95_ms": _p95(campaigns[n]),
        }
        for n in runs
    }


# --- exports, each in a fresh process ----------------------------------------------------


def _export_child(url, campaign_id, what):
    """Run one export in this (fresh) process and print its figures."""
    from shopsms.extensions import db
    from shopsms.services import report_export

    app = _app(url)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        size = rows = 0
        if what == "csv":  # what the view streams
            for chunk in report_export.csv_chunks(campaign_id):
                size += len(chunk)
                rows += chunk.count(b"\n")
            rows -= 1  # the header
        elif what == "copy":  # PostgreSQL's own COPY of the same columns, unformatted
            sql = (
                "COPY (SELECT c.number, c.first_name, c.last_name, m.phone, m.text, m.parts, "
                "m.state, m.skip_reason, m.error, m.submitted_at, m.done_at FROM messages m "
                "LEFT JOIN clients c ON c.id = m.client_id WHERE m.campaign_id = "
                f"{int(campaign_id)} ORDER BY m.id) TO STDOUT WITH (FORMAT csv, DELIMITER ';')"
            )
            connection = db.session.connection().connection.driver_connection
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for data in copy:
                    size += len(data)
                    rows += bytes(data).count(b"\n")
        else:  # what the Excel job writes
            target = os.path.join(tempfile.mkdtemp(prefix="bench-xlsx-"), "r.xlsx")
            rows = report_export.write_xlsx(report_export.export_rows(campaign_id), target)
            size = os.path.getsize(target)
            os.unlink(target)
        seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": rows,
                "bytes": size,
                "seconds": seconds,
                "peak_rss_mib": peak_kib / 1024,
                "growth_mib": (peak_kib - before_kib) / 1024,
            }
        )
    )


def _export(url, campaign_id, what):
    result = subprocess.run(
        [sys.executable, "-m", "bench.reports", "_export", url, str(campaign_id), what],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _measure_exports(url, campaign_id, count, postgresql):
    kinds = ["csv", "copy"] if postgresql else ["csv"]
    best = {}
    for _ in range(2):  # interleaved: the machine's load falls on both alike
        for kind in kinds:
            figures = _export(url, campaign_id, kind)
            assert figures["rows"] >= count, (kind, figures["rows"], count)
            if kind not in best or figures["seconds"] < best[kind]["seconds"]:
                best[kind] = figures
    if XLSX_MAX is None or count <= XLSX_MAX:
        best["xlsx"] = _export(url, campaign_id, "xlsx")
    out = {}
    for kind, figures in best.items():
        out[f"{kind}_rows_per_s"] = round(count / figures["seconds"])
        out[f"{kind}_seconds"] = round(figures["seconds"], 2)
        out[f"{kind}_peak_rss_mib"] = round(figures["peak_rss_mib"], 1)
        out[f"{kind}_rss_growth_mib"] = round(figures["growth_mib"], 1)
    if postgresql:
        out["export_csv_over_copy"] = round(out["csv_rows_per_s"] / out["copy_rows_per_s"], 2)
    return out


def _run(url, sizes, postgresql):
    import contextlib

    from flask_migrate import upgrade

    from bench._db import throwaway_database
    from shopsms.extensions import db

    os.environ["DATABASE_URL"] = url
    figures = {}
    with contextlib.ExitStack() as stack:
        runs, databases = {}, {}
        for count in sizes:  # a database per size, all kept until the end
            database = stack.enter_context(throwaway_database(f"shopsms-bench-reports-{count}"))
            app = _app(database)
            with app.app_context():
                upgrade()
            store_id = _setup(app)
            started = time.perf_counter()
            runs[count] = (app, _add_campaign(app, store_id, count))
            databases[count] = database
            figures[count] = {"load_seconds": round(time.perf_counter() - started, 1)}
        pages = _measure_pages(runs)
        load = round(os.getloadavg()[0], 1)
        for count, (app, campaign_id) in runs.items():
            exports = _measure_exports(databases[count], campaign_id, count, postgresql)
            figures[count].update(
                pages[count],
                **exports,
                loadavg_1m=load,
                loadavg_1m_exports=round(os.getloadavg()[0], 1),
            )
            # Each size as it is measured: a 1,000,000-row run takes a while.
            size_line = {
                "benchmark": "reports_size",
                "database": "postgresql" if postgresql else "sqlite",
                "messages": count,
                **figures[count],
            }
            print(json.dumps(size_line), flush=True)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return figures


def _ratio(figures, big, small):
    if big in figures and small in figures and figures[small]:
        return round(figures[big] / figures[small], 2)
    return None


def main():
    pg = _run(_postgres_url(), PG_SIZES, True)
    big, small = max(pg), min(pg)
    detail = {n: max(f["detail_p1_p95_ms"], f["detail_deep_p95_ms"]) for n, f in pg.items()}
    lists = {n: max(f["reports_list_p95_ms"], f["campaigns_list_p95_ms"]) for n, f in pg.items()}
    rss = {n: f["csv_peak_rss_mib"] for n, f in pg.items()}  # measured at every size
    goals = {
        "detail_p95_ratio_1m_over_10k": "<= 1.5",
        "list_p95_ratio_1m_over_10k": "<= 1.5",
        "export_rss_ratio_1m_over_100k": "<= 1.2",
        "export_csv_over_copy": ">= 0.3",
    }
    result = {
        "benchmark": "reports",
        "database": "postgresql",
        "sizes": {str(n): f for n, f in pg.items()},
        "detail_p95_ratio_1m_over_10k": _ratio(detail, big, small),
        "list_p95_ratio_1m_over_10k": _ratio(lists, big, small),
        "export_rss_ratio_1m_over_100k": _ratio(rss, big, 100_000),
        "export_csv_over_copy": pg[big]["export_csv_over_copy"],
        "largest": big,
        "goals": goals,
    }
    print(json.dumps(result, ensure_ascii=False))
    sqlite = _run("", [SQLITE_SIZE], False)
    sizes = {str(n): f for n, f in sqlite.items()}
    print(json.dumps({"benchmark": "reports", "database": "sqlite", "sizes": sizes}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["_export"]:
        _export_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
