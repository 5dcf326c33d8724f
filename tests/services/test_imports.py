"""The import of point-of-sale files: the demo export's counts, reject reasons, upsert by
external id (a second import changes nothing), encodings and separators, consent."""

import csv
import os
import shutil
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from shopsms.demo import STORES
from shopsms.extensions import db
from shopsms.models import Brand, Client, Purchase, RepairTicket, Store, User
from shopsms.models.consent import ConsentChange
from shopsms.services import imports
from shopsms.services.imports import demo_export
from shopsms.services.imports.reading import detect


@pytest.fixture
def chain(ctx, store):
    """The demo chain's six stores (the conftest made 001)."""
    for code, name, city, _ in STORES[1:]:
        db.session.add(Store(code=code, name=name, city=city))
    db.session.commit()


@pytest.fixture
def export(tmp_path):
    return demo_export.write(tmp_path / "export", clients=60)


def run_file(path, kind, store_id=None):
    copy = imports.import_path()
    shutil.copyfile(path, copy)
    run = imports.start(copy, kind=kind, filename=path.name, store_id=store_id)
    imports.confirm(run.id, run.mapping, enqueue=False)
    done = imports.run(run.id)
    # Plain values: the next run's batches empty the session.
    return SimpleNamespace(
        **{
            name: getattr(done, name)
            for name in (
                "rows_read",
                "rows_created",
                "rows_updated",
                "rows_unchanged",
                "rows_rejected",
                "reject_path",
                "upload_path",
                "status",
            )
        }
    )


def counts(run):
    return (
        run.rows_read,
        run.rows_created,
        run.rows_updated,
        run.rows_unchanged,
        run.rows_rejected,
    )


def test_the_demo_export_imports_with_the_expected_counts_and_rejects(chain, export, tmp_path):
    folder = tmp_path / "export"
    clients = run_file(folder / "clients.csv", "clients")
    purchases = run_file(folder / "ventes.csv", "purchases")
    repairs = run_file(folder / "sav.csv", "repairs")

    assert counts(clients) == (65, 60, 0, 0, 5)
    assert counts(purchases) == (63, 60, 0, 0, 3)
    assert counts(repairs) == (17, 15, 0, 0, 2)
    assert db.session.scalar(select(func.count(Client.id))) == 60
    # Imported rows bypass the ORM listener: the name search must still find them.
    assert (
        db.session.scalar(
            select(func.count(Client.id)).where(func.coalesce(Client.search_name, "") == "")
        )
        == 0
    )
    assert db.session.scalar(select(func.count(Purchase.id))) == 60
    assert db.session.scalar(select(func.count(RepairTicket.id))) == 15
    # The uploads are gone once imported; the reject files stay for download.
    assert clients.status == "done" and not os.path.exists(clients.upload_path)

    with open(clients.reject_path, encoding="utf-8-sig", newline="") as file:
        rejected = list(csv.reader(file, delimiter=";"))
    assert rejected[0][:3] == ["Ligne", "Colonne", "Motif"]
    by_line = {row[0]: row for row in rejected[1:]}
    assert set(by_line) == {"62", "63", "64", "65", "66"}
    assert by_line["62"][1] == "Date de naissance" and "31/02/1990" in by_line["62"][2]
    assert by_line["63"][1] == "Nom" and "obligatoire" in by_line["63"][2]
    assert by_line["64"][1] == "Magasin" and "Magasin inconnu « 999 »" in by_line["64"][2]
    assert "5 colonnes au lieu de 15" in by_line["65"][2]
    assert by_line["66"][1] == "Nom, Accord SMS"  # « M. et Mme »-like civility: a warning
    assert "80 caractères au plus" in by_line["66"][2]
    assert by_line["66"][3] == "POS-BAD5"  # the row itself follows, to fix and re-import


def test_importing_the_same_files_twice_changes_nothing(chain, export, tmp_path):
    folder = tmp_path / "export"
    for name, kind in (
        ("clients.csv", "clients"),
        ("ventes.csv", "purchases"),
        ("sav.csv", "repairs"),
    ):
        run_file(folder / name, kind)
    before = db.session.execute(select(Client.id, Client.updated_at)).all()
    proofs = db.session.scalar(select(func.count(ConsentChange.id)))

    again = [
        run_file(folder / name, kind)
        for name, kind in (
            ("clients.csv", "clients"),
            ("ventes.csv", "purchases"),
            ("sav.csv", "repairs"),
        )
    ]

    assert [counts(run) for run in again] == [
        (65, 0, 0, 60, 5),
        (63, 0, 0, 60, 3),
        (17, 0, 0, 15, 2),
    ]
    assert db.session.execute(select(Client.id, Client.updated_at)).all() == before
    assert db.session.scalar(select(func.count(ConsentChange.id))) == proofs


def test_a_newer_file_updates_what_changed(chain, export, tmp_path):
    path = tmp_path / "export" / "clients.csv"
    run_file(path, "clients")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    cells = lines[1].split(";")
    cells[9] = "07 81 22 33 44"  # Tél. 1
    cells[13] = "Non"  # Accord SMS
    lines[1] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = run_file(path, "clients")

    assert counts(run) == (65, 0, 1, 59, 5)
    client = db.session.scalar(select(Client).where(Client.external_id == cells[0]))
    assert client.tel1 == "07 81 22 33 44"
    assert client.sms_number == "+33781223344"
    assert client.sms_consent == "refused"
    proof = db.session.scalars(
        select(ConsentChange).where(ConsentChange.client_id == client.id).order_by(ConsentChange.id)
    ).all()[-1]
    # The file's « Non » is recorded as proof, as a counter change would be.
    assert (proof.how, proof.marketing_after) == ("import", "refused")
    assert proof.marketing_before != "refused"


def test_windows_1252_and_comma_separated_files_are_detected(chain, export, tmp_path):
    path = tmp_path / "export" / "ventes.csv"
    file_format = detect(path)
    assert (file_format.encoding, file_format.delimiter) == ("cp1252", ",")
    assert file_format.headers[6] == "N° ticket"
    run_file(tmp_path / "export" / "clients.csv", "clients")
    run_file(path, "purchases")
    # Accents and French decimals come through.
    assert db.session.scalar(select(Brand.id).where(Brand.name == "Créations Éléa"))
    amounts = db.session.scalars(select(Purchase.amount)).all()
    assert all(amount.as_tuple().exponent == -2 for amount in amounts)


def test_consent_comes_with_its_proof_and_unknown_is_not_marketing_reachable(chain, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "Code client;Nom;Magasin;Portable;Accord SMS\n"
        "A1;UN;001;06 11 22 33 44;Oui\nA2;DEUX;001;0611223345;\n"
        "A3;TROIS;001;+33 6 11 22 33 46;non\n",
        encoding="utf-8",
    )
    run = run_file(path, "clients")
    assert counts(run) == (3, 3, 0, 0, 0)
    consent = dict(db.session.execute(select(Client.external_id, Client.sms_consent)).all())
    assert consent == {"A1": "accepted", "A2": "unknown", "A3": "refused"}
    proofs = db.session.scalars(select(ConsentChange.how)).all()
    assert proofs == ["import", "import"]
    numbers = dict(db.session.execute(select(Client.external_id, Client.sms_number)).all())
    assert numbers == {"A1": "+33611223344", "A2": "+33611223345", "A3": "+33611223346"}


def test_a_managers_import_writes_only_their_store(chain, store, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id;nom;magasin\nB1;UN;001\nB2;DEUX;002\nB3;TROIS;\n", encoding="utf-8")
    run = run_file(path, "clients", store_id=store.id)
    assert counts(run) == (3, 2, 0, 0, 1)
    stores = set(db.session.scalars(select(Client.store_id)).all())
    assert stores == {store.id}


def test_a_mapping_is_remembered_for_the_next_file_of_its_kind(chain, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("REF;LIBELLE CLIENT;BOUTIQUE\nX1;DURAND;001\n", encoding="utf-8")
    copy = imports.import_path()
    shutil.copyfile(path, copy)
    run = imports.start(copy, kind="clients", filename="odd.csv")
    assert "LIBELLE CLIENT" not in run.mapping  # not a name we recognise
    with pytest.raises(imports.ImportError_, match="Nom"):
        imports.confirm(run.id, run.mapping, enqueue=False)
    mapping = {"REF": "external_id", "LIBELLE CLIENT": "last_name", "BOUTIQUE": "store"}
    imports.confirm(run.id, mapping, enqueue=False)

    copy = imports.import_path()
    shutil.copyfile(path, copy)
    assert imports.start(copy, kind="clients", filename="odd.csv").mapping == mapping


def test_the_commands_export_the_demo_files_and_import_them(app, chain, runner, tmp_path):
    folder = tmp_path / "cli"
    exported = runner.invoke(args=["demo", "export", str(folder), "--clients", "20"])
    assert exported.exit_code == 0, exported.output
    assert "20 clients (+5 lignes en erreur)" in exported.output
    imported = runner.invoke(args=["import", "clients", str(folder / "clients.csv")])
    assert imported.exit_code == 0, imported.output
    assert "25 lignes lues : 20 créées, 0 modifiées, 0 inchangées, 5 rejetées." in imported.output
    assert "Lignes rejetées : " in imported.output
    assert (folder / "clients.csv").exists()  # the command works on a copy
    again = runner.invoke(args=["import", "clients", str(folder / "clients.csv")])
    assert "0 créées, 0 modifiées, 20 inchangées, 5 rejetées." in again.output
    unknown = runner.invoke(args=["import", "clients", str(folder / "clients.csv"), "--store", "X"])
    assert unknown.exit_code != 0 and "Magasin inconnu « X »." in unknown.output


# --- files as they really come ---------------------------------------------------------


def write_bytes(tmp_path, data, name="c.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rejected_lines(run):
    with open(run.reject_path, encoding="utf-8-sig", newline="") as file:
        return {row[0]: row for row in list(csv.reader(file, delimiter=";"))[1:]}


def names():
    return dict(db.session.execute(select(Client.external_id, Client.first_name)).all())


def test_a_stray_byte_late_in_a_utf8_file_refuses_only_its_row(chain, tmp_path):
    lines = ["id;nom;prénom;magasin"] + [f"E{n};NOM;Hélène;001" for n in range(300)]
    data = "\n".join(lines).encode() + b"\nBAD;NOM;Ren\xe9;001\nE999;NOM;Zo\xc3\xa9;001\n"
    run = run_file(write_bytes(tmp_path, data), "clients")
    assert counts(run) == (302, 301, 0, 0, 1)
    assert set(names().values()) == {"Hélène", "Zoé"}  # never "HÃ©lÃ¨ne"
    reject = rejected_lines(run)["302"]
    assert "Caractère illisible" in reject[2]


def test_a_bom_and_a_stray_byte_keep_the_header_clean(chain, tmp_path):
    data = b"\xef\xbb\xbfid;nom;magasin\nA1;Andr\xc3\xa9;001\nA2;Ren\xe9;001\n"
    path = write_bytes(tmp_path, data)
    assert detect(path).headers == ["id", "nom", "magasin"]
    run = run_file(path, "clients")
    assert counts(run) == (2, 1, 0, 0, 1)
    assert db.session.scalar(select(Client.last_name)) == "André"


def test_bytes_windows_1252_does_not_define_refuse_their_rows_only(chain, tmp_path):
    data = "id;nom;magasin\nW1;Fran\xe7ois;001\nW2;X\x81Y;001\nW3;\x9d;001\n".encode("latin-1")
    run = run_file(write_bytes(tmp_path, data), "clients")
    assert counts(run) == (3, 1, 0, 0, 2)
    assert db.session.scalar(select(Client.last_name)) == "François"
    assert set(rejected_lines(run)) == {"3", "4"}


@pytest.mark.parametrize(
    "data", [b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, b"id;nom\x00;x\nA;B;C\n"]
)
def test_a_spreadsheet_or_binary_file_is_refused_and_its_upload_deleted(ctx, tmp_path, data):
    copy = imports.import_path()
    copy.write_bytes(data)
    with pytest.raises(imports.ImportError_, match="Enregistrez le fichier au format CSV"):
        imports.start(copy, kind="clients", filename="clients.xlsx")
    assert not copy.exists()


def test_a_wrong_kind_deletes_the_upload_too(ctx, tmp_path):
    copy = imports.import_path()
    copy.write_text("id;nom\nA;B\n")
    with pytest.raises(imports.ImportError_):
        imports.start(copy, kind="nope")
    assert not copy.exists()


def test_a_trailing_separator_on_every_line_is_not_a_column(chain, tmp_path):
    path = write_bytes(tmp_path, b"id;nom;magasin;\nT1;UN;001;\nT2;DEUX;001;;\nT3;TROIS;001;x\n")
    run = run_file(path, "clients")
    assert counts(run) == (3, 2, 0, 0, 1)
    assert "4 colonnes au lieu de 3" in rejected_lines(run)["4"][2]


def test_an_unclosed_quote_or_a_huge_value_is_refused_in_french_and_the_rest_goes_in(
    chain, tmp_path
):
    huge = "x" * (1024 * 1024 + 10)
    text = f'id;nom;magasin\nQ1;UN;001\nQ2;"{huge}";001\nQ3;TROIS;001\nQ4;"QUATRE;001\n'
    text += "".join(f"R{n};N;001\n" for n in range(3))
    run = run_file(write_bytes(tmp_path, text.encode()), "clients")
    assert run.status == "done"
    assert set(db.session.scalars(select(Client.external_id))) >= {"Q1", "Q3"}
    reasons = " ".join(row[2] for row in rejected_lines(run).values())
    assert "guillemet" in reasons.lower()
    assert run.rows_read == run.rows_created + run.rows_rejected


def test_duplicates_further_down_a_big_file_are_refused(chain, tmp_path, monkeypatch):
    from shopsms.services.imports import job

    monkeypatch.setattr(job, "BATCH_SIZE", 3)
    monkeypatch.setattr(job, "PG_BATCH_SIZE", 3)
    lines = ["id;nom;magasin"] + [f"D{n};NOM{n};001" for n in range(7)] + ["D1;AUTRE;001"]
    run = run_file(write_bytes(tmp_path, ("\n".join(lines) + "\n").encode()), "clients")
    assert counts(run) == (8, 7, 0, 0, 1)
    assert "double" in rejected_lines(run)["9"][2]
    assert db.session.scalar(select(Client.last_name).where(Client.external_id == "D1")) == "NOM1"


def test_a_time_budget_pauses_the_run_and_it_resumes_where_it_stopped(chain, tmp_path, monkeypatch):
    from shopsms.services.imports import job

    monkeypatch.setattr(job, "BATCH_SIZE", 4)
    monkeypatch.setattr(job, "PG_BATCH_SIZE", 4)
    lines = ["id;nom;magasin"] + [f"P{n};NOM;001" for n in range(10)] + ["P1;DOUBLE;001"]
    copy = imports.import_path()
    copy.write_text("\n".join(lines) + "\n")
    run = imports.start(copy, kind="clients")
    imports.confirm(run.id, run.mapping, enqueue=False)
    paused = imports.run(run.id, budget=0)
    assert (paused.status, paused.rows_read, paused.lines_done) == ("running", 4, 5)
    assert imports.run(run.id) is None  # a second job for the same run does nothing
    resumed = imports.run(run.id, resume=True, budget=0)
    assert resumed.rows_read == 8
    done = imports.run(run.id, resume=True)
    assert counts(done) == (11, 10, 0, 0, 1)  # the duplicate is found across the pause
    assert done.status == "done" and done.bytes_done == done.size_bytes


def test_the_reject_file_cannot_run_formulas_and_a_corrected_one_imports(chain, tmp_path):
    path = write_bytes(tmp_path, 'id;nom;magasin;civilité\n=1+1;=HYPERLINK("x");999;M\n'.encode())
    run = run_file(path, "clients")
    row = rejected_lines(run)["2"]
    assert row[3:6] == ["'=1+1", '\'=HYPERLINK("x")', "999"]
    # The person fixes the store in the reject file and imports it again.
    fixed = tmp_path / "fixed.csv"
    with open(run.reject_path, encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source, delimiter=";"))
    header, body = rows[0][3:], [r[3:] for r in rows[1:]]
    body[0][2] = "001"
    with open(fixed, "w", encoding="utf-8", newline="") as target:
        csv.writer(target, delimiter=";").writerows([header, *body])
    again = run_file(fixed, "clients")
    assert counts(again) == (1, 1, 0, 0, 0)
    client = db.session.scalar(select(Client))
    assert (client.external_id, client.last_name) == ("=1+1", '=HYPERLINK("x")')


def test_consent_withdrawn_by_a_file_is_recorded_and_stop_is_never_undone(chain, store, tmp_path):
    from shopsms.services.clients import change_consent

    path = write_bytes(
        tmp_path, b"id;nom;magasin;accord sms;civ\nS1;UN;001;Oui;M\nS2;DEUX;001;Oui;\n"
    )
    run_file(path, "clients")
    withdrawn = write_bytes(tmp_path, b"id;nom;magasin;accord sms\nS1;UN;001;Non\n", "w.csv")
    run_file(withdrawn, "clients")
    one = db.session.scalar(select(Client).where(Client.external_id == "S1"))
    last = db.session.scalars(
        select(ConsentChange).where(ConsentChange.client_id == one.id).order_by(ConsentChange.id)
    ).all()[-1]
    assert (last.how, last.marketing_before, last.marketing_after) == (
        "import",
        "accepted",
        "refused",
    )

    two = db.session.scalar(select(Client).where(Client.external_id == "S2"))
    change_consent(two.id, marketing="refused", how="stop")
    db.session.commit()
    run = run_file(path, "clients")  # the old file says « Oui » again for both
    consent = dict(db.session.execute(select(Client.external_id, Client.sms_consent)).all())
    assert consent == {"S1": "accepted", "S2": "refused"}  # S1 said no by file, not STOP
    assert run.rows_rejected == 0
    warning = rejected_lines(run)["3"]
    assert warning[1] == "accord sms" and "STOP" in warning[2]


def test_an_odd_civility_is_left_empty_with_a_warning(chain, tmp_path):
    path = write_bytes(tmp_path, "id;nom;magasin;civilité\nC1;UN;001;M. et Mme\n".encode())
    run = run_file(path, "clients")
    assert counts(run) == (1, 1, 0, 0, 0)
    assert db.session.scalar(select(Client.civility)) == ""
    assert "laissée vide" in rejected_lines(run)["2"][2]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("359,00", "359.00"),
        ("1 234,5", "1234.50"),
        ("12.5", "12.50"),
        ("1.234.567", "1234567.00"),
    ],
)
def test_amounts_read_the_last_separator_as_decimals(text, amount):
    from decimal import Decimal

    from shopsms.services.imports.fields import parse_amount

    assert parse_amount(text) == Decimal(amount)


def test_ambiguous_amounts_and_future_birthdays_are_refused():
    from datetime import date

    from shopsms.services.imports.fields import CellError, parse_amount, parse_birthday

    for text in ("1.234", "1,234", "1,2,3"):
        with pytest.raises(CellError):
            parse_amount(text)
    assert parse_birthday("12/05/45") == date(1945, 5, 12)
    with pytest.raises(CellError, match="futur"):
        parse_birthday(f"01/01/{date.today().year + 1}")


def test_the_sweep_requeues_stuck_runs_fails_dead_ones_and_cleans_up(chain, tmp_path, redis_client):
    from datetime import timedelta

    from rq import Queue

    from shopsms.models import utcnow
    from shopsms.models.integration import ImportRun
    from shopsms.queue import get_queue

    def new_run(status, **moments):
        copy = imports.import_path()
        copy.write_text("id;nom;magasin\nA;B;001\n")
        run = imports.start(copy, kind="clients")
        run.status = status
        for name, value in moments.items():
            setattr(run, name, value)
        db.session.commit()
        return run.id, copy

    long_ago = utcnow() - timedelta(hours=30)
    queued, _ = new_run("queued", progress_at=utcnow() - timedelta(minutes=5))
    fresh, _ = new_run("queued", progress_at=utcnow())
    dead, _ = new_run("running", progress_at=utcnow() - timedelta(minutes=20))
    draft, draft_file = new_run("draft", created_at=long_ago)
    old, old_file = new_run("done", finished_at=utcnow() - timedelta(days=40))

    assert imports.sweep() == {"requeued": 1, "failed": 1, "drafts": 1, "files": 1}

    queue: Queue = get_queue()
    assert [job.args[0] for job in queue.jobs] == [queued]
    dead_run = db.session.get(ImportRun, dead)
    assert dead_run.status == "failed" and "relancez" in dead_run.error
    assert imports.retry(dead).status == "queued"  # the failed one can be run again
    assert db.session.get(ImportRun, draft) is None and not draft_file.exists()
    assert not old_file.exists() and db.session.get(ImportRun, old).upload_path == ""
    assert db.session.get(ImportRun, fresh).status == "queued"


def test_the_job_hands_over_after_its_budget_and_queues_its_continuation(
    app, chain, tmp_path, redis_client, monkeypatch
):
    from shopsms import jobs
    from shopsms.queue import get_queue
    from shopsms.services.imports import job

    monkeypatch.setattr(job, "BATCH_SIZE", 2)
    monkeypatch.setattr(job, "PG_BATCH_SIZE", 2)
    app.config["IMPORT_JOB_SECONDS"] = 0
    copy = imports.import_path()
    copy.write_text("id;nom;magasin\n" + "".join(f"J{n};N;001\n" for n in range(5)))
    run = imports.start(copy, kind="clients")
    imports.confirm(run.id, run.mapping, enqueue=False)
    assert jobs.import_file(run.id) == {"rows_read": 2, "status": "running"}
    queued = get_queue().jobs
    assert [(j.func_name, j.args) for j in queued] == [("shopsms.jobs.import_file", (run.id, True))]
    assert jobs.import_file(run.id, True)["rows_read"] == 4
    app.config["IMPORT_JOB_SECONDS"] = 25
    assert jobs.import_file(run.id, True) == {"rows_read": 5, "status": "done"}


def test_a_run_confirmed_while_redis_is_down_waits_and_the_sweep_queues_it(
    app, chain, tmp_path, redis_client
):
    from datetime import timedelta

    import redis

    from shopsms.models import utcnow
    from shopsms.queue import get_queue

    copy = imports.import_path()
    copy.write_text("id;nom;magasin\nR1;N;001\n")
    run = imports.start(copy, kind="clients")
    working = app.extensions["redis"]
    app.extensions["redis"] = redis.Redis.from_url("redis://127.0.0.1:1/0")  # nobody there
    try:
        queued = imports.confirm(run.id, run.mapping)  # no error page for the person
    finally:
        app.extensions["redis"] = working
    assert queued.status == "queued" and not get_queue().jobs
    queued.progress_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    assert imports.sweep()["requeued"] == 1
    assert [job.args for job in get_queue().jobs] == [(run.id, False)]


def test_a_file_with_one_phone_column_keeps_the_cards_other_number(chain, tmp_path):
    """Tél. 1 without Tél. 2 (or Nom without Prénom) in the file: the SMS number and the
    search words of an existing card also read the number and first name it keeps."""
    both = write_bytes(
        tmp_path,
        (
            "id;nom;prénom;magasin;tél. 1;tél. 2\nP1;MARTIN;Zoé;001;05 59 00 00 00;06 12 34 56 78\n"
        ).encode(),
    )
    run_file(both, "clients")
    one_phone = write_bytes(
        tmp_path, "id;nom;magasin;tél. 1\nP1;LEGALL;001;05 59 11 11 11\n".encode(), "one.csv"
    )
    run = run_file(one_phone, "clients")
    assert counts(run) == (1, 0, 1, 0, 0)
    client = db.session.scalar(select(Client).where(Client.external_id == "P1"))
    assert (client.tel1, client.tel2, client.sms_number) == (
        "05 59 11 11 11",
        "06 12 34 56 78",
        "+33612345678",
    )
    assert client.first_name == "Zoé" and "ZOE" in client.search_name.split()
    assert "LEGALL" in client.search_name.split()
    assert "0612345678" in client.phone_digits and "0559111111" in client.phone_digits
    assert counts(run_file(one_phone, "clients")) == (1, 0, 0, 1, 0)


def test_the_reject_file_speaks_the_language_of_who_started_the_import(chain, users, tmp_path):
    """Written by a job, with nobody's request: in the language the person chose."""
    admin = db.session.get(User, users["admin"].id)
    admin.locale = "en"
    db.session.commit()
    lines = b"id;nom;magasin;naissance\nA1;DURAND;999;01/01/1990\nA2;;001;31/02/1990\n"
    path = write_bytes(tmp_path, lines)
    copy = imports.import_path()
    shutil.copyfile(path, copy)
    run = imports.start(copy, kind="clients", filename=path.name, user=admin)
    imports.confirm(run.id, run.mapping, enqueue=False)
    done = imports.run(run.id)
    with open(done.reject_path, encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert rows[0][:3] == ["Line", "Column", "Reason"]
    assert rows[1][2] == "Unknown store “999”."
    assert "Required value: “Last name”." in rows[2][2]
    assert "Invalid date “31/02/1990”" in rows[2][2]
