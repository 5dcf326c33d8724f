"""« Import »: upload, preview, mapping, the run as an RQ job (a real worker in burst
mode), progress that stops polling, the reject file; « Paramètres > API » tokens."""

import csv
import html
import io
import logging
import os
import re
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from shopsms.config import PROJECT_ROOT
from shopsms.demo import STORES
from shopsms.extensions import db
from shopsms.models import AuditEntry, Client, Store
from shopsms.models.integration import ApiToken, ImportRun
from shopsms.services.imports import demo_export
from tests.conftest import csrf_token


@pytest.fixture
def chain(app, store):
    with app.app_context():
        for code, name, city, _ in STORES[1:]:
            db.session.add(Store(code=code, name=name, city=city))
        db.session.commit()


@pytest.fixture
def export(tmp_path):
    return demo_export.write(tmp_path / "export", clients=40)


def burst_worker(migrated, redis_url, tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL=migrated,
        REDIS_URL=redis_url,
        SHOPSMS_INSTANCE_PATH=str(tmp_path / "worker"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def upload(http, path, kind):
    page = http.get("/import")
    with open(path, "rb") as file:
        return http.post(
            "/import",
            data={"kind": kind, "csrf_token": csrf_token(page), "file": (file, path.name)},
            content_type="multipart/form-data",
        )


def mapping_form(page_text):
    """The mapping as the page proposes it: each select's selected option."""
    form = {}
    for name, options in re.findall(
        r'<select name="(map-\d+)"[^>]*>(.*?)</select>', page_text, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        form[name] = chosen.group(1) if chosen else ""
    return form


def test_staff_cannot_import_and_managers_can(client_as):
    assert client_as("staff").get("/import").status_code == 403
    page = client_as("manager").get("/import")
    assert page.status_code == 200
    assert "Import du fichier clients" in page.text and 'type="file"' in page.text


def test_import_the_demo_file_through_the_page_and_a_real_worker(
    app, client_as, chain, export, migrated, redis_url, redis_client, tmp_path
):
    http = client_as("admin")
    response = upload(http, tmp_path / "export" / "clients.csv", "clients")
    assert response.status_code == 302
    preview = http.get(response.headers["Location"])
    assert "UTF-8" in preview.text and "séparateur « ; »" in preview.text
    assert 'data-testid="import-preview"' in preview.text
    assert "POS-C000001" in preview.text  # the first rows, as they will be imported
    form = mapping_form(preview.text)
    assert form["map-0"] == "external_id" and form["map-4"] == "last_name"

    launched = http.post(
        response.headers["Location"] + "/lancer", data=form | {"csrf_token": csrf_token(preview)}
    )
    assert launched.status_code == 302
    with app.app_context():
        run = db.session.scalar(select(ImportRun))
        assert run.status == "queued"
        run_id = run.id
    polling = http.get(f"/import/{run_id}/progression", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in polling.text

    burst_worker(migrated, redis_url, tmp_path)

    done = http.get(f"/import/{run_id}/progression", headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.text  # the bar stops polling
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', done.text))
    assert counts == {
        "read": "45",
        "created": "40",
        "updated": "0",
        "unchanged": "0",
        "rejected": "5",
    }
    rejects = http.get(f"/import/{run_id}/rejets.csv")
    assert rejects.status_code == 200 and rejects.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(rejects.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 6 and rows[1][:2] == ["42", "Date de naissance"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Client.id))) == 40
        run = db.session.get(ImportRun, run_id)
        assert not os.path.exists(run.upload_path)  # the upload is gone, the rejects stay


def test_changing_a_column_refreshes_the_preview_and_a_bad_mapping_is_explained(
    client_as, chain, export, tmp_path
):
    http = client_as("admin")
    location = upload(http, tmp_path / "export" / "clients.csv", "clients").headers["Location"]
    page = http.get(location)
    form = mapping_form(page.text) | {"map-4": ""}  # « Nom » ignored
    partial = http.post(
        location + "/apercu",
        data=form | {"csrf_token": csrf_token(page)},
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "Choisissez la colonne qui contient « Nom »." in partial.text
    refused = http.post(location + "/lancer", data=form | {"csrf_token": csrf_token(page)})
    assert refused.status_code == 422
    assert "Choisissez la colonne qui contient « Nom »." in refused.text


def test_a_file_that_is_not_a_csv_is_refused_with_a_reason(client_as, store, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("juste une phrase\n", encoding="utf-8")
    http = client_as("manager")
    response = upload(http, path, "clients")
    assert response.status_code == 422
    assert "Une seule colonne trouvée : le séparateur doit être « ; » ou « , »." in response.text


def test_a_manager_sees_only_their_stores_runs(app, client_as, chain, store, tmp_path):
    with app.app_context():
        other = db.session.scalar(select(Store.id).where(Store.code == "002"))
        db.session.add(ImportRun(kind="clients", filename="autre.csv", store_id=other))
        db.session.commit()
        other_run = db.session.scalar(select(ImportRun.id))
    http = client_as("manager")
    assert "autre.csv" not in http.get("/import").text
    assert http.get(f"/import/{other_run}").status_code == 404


def test_a_token_is_shown_once_stored_hashed_and_revoked(
    app, client_as, store, redis_client, caplog
):
    caplog.set_level(logging.DEBUG)
    http = client_as("manager")
    page = http.get("/parametres/api")
    assert page.status_code == 200
    created = http.post(
        "/parametres/api", data={"name": "Caisse 1", "csrf_token": csrf_token(page)}
    )
    # Post-redirect-get: a refresh of the page showing the token creates no other one.
    assert created.status_code == 303
    shown = http.get(created.headers["Location"])
    token = re.search(r'value="(shs_[^"]+)" data-testid="new-token"', shown.text).group(1)
    assert "il ne sera plus jamais affiché" in shown.text
    assert "no-store" in shown.headers["Cache-Control"]
    again = http.get("/parametres/api")
    assert token not in again.text and "Caisse 1" in again.text
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id))) == 1
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
        assert row.store_id == store.id  # a manager's token is their store's
        token_id = row.id
    assert (
        http.get("/api/v1/campaigns/1", headers={"Authorization": f"Bearer {token}"}).status_code
        == 404
    )
    revoked = http.post(
        f"/parametres/api/{token_id}/revoquer",
        data={"csrf_token": csrf_token(again)},
        follow_redirects=True,
    )
    assert "Jeton « Caisse 1 » révoqué." in revoked.text
    answer = http.get("/api/v1/campaigns/1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert {"api_token.create", "api_token.revoke"} <= set(actions)
    assert token not in caplog.text  # neither the pages nor the API ever log it


def test_a_token_without_a_name_is_refused(client_as, store):
    http = client_as("manager")
    page = http.get("/parametres/api")
    response = http.post("/parametres/api", data={"name": " ", "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert "Donnez un nom au jeton" in response.text


def test_a_managers_preview_says_which_rows_belong_to_another_store(client_as, chain, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id;nom;magasin\nB1;UN;001\nB2;DEUX;002\n", encoding="utf-8")
    http = client_as("manager")
    preview = http.get(upload(http, path, "clients").headers["Location"])
    assert preview.text.count('class="rejected"') == 1
    assert "Vous ne pouvez écrire que pour le magasin 001." in preview.text


def test_a_files_cells_in_a_reject_reason_are_shown_as_text(client_as, chain, tmp_path):
    """A reason quotes the cell (« Magasin inconnu « … » »): as text, never as markup."""
    path = tmp_path / "c.csv"
    path.write_text("id;nom;magasin\nB1;UN;<b>x</b>\n", encoding="utf-8")  # a code: 10 at most
    http = client_as("admin")
    preview = http.get(upload(http, path, "clients").headers["Location"])
    assert "<b>x</b>" not in preview.text
    assert "Magasin inconnu « &lt;b&gt;x&lt;/b&gt; »." in preview.text


def test_cancelling_a_preview_leaves_nothing_behind(app, client_as, chain, export, tmp_path):
    http = client_as("admin")
    location = upload(http, tmp_path / "export" / "clients.csv", "clients").headers["Location"]
    page = http.get(location)
    with app.app_context():
        upload_path = db.session.scalar(select(ImportRun.upload_path))
    assert os.path.exists(upload_path)
    cancelled = http.post(
        location + "/abandonner", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "Import abandonné : rien n'a été importé." in html.unescape(cancelled.text)
    assert not os.path.exists(upload_path)
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportRun.id))) == 0
        assert db.session.scalar(select(func.count(Client.id))) == 0


def test_a_failed_import_can_be_run_again(
    app, client_as, chain, export, migrated, redis_url, redis_client, tmp_path
):
    http = client_as("admin")
    location = upload(http, tmp_path / "export" / "clients.csv", "clients").headers["Location"]
    page = http.get(location)
    with app.app_context():
        upload_path = db.session.scalar(select(ImportRun.upload_path))
    # The worker really fails: where the file was, it finds a folder it cannot read.
    saved = tmp_path / "saved.csv"
    shutil.move(upload_path, saved)
    os.mkdir(upload_path)
    http.post(
        location + "/lancer", data={**mapping_form(page.text), "csrf_token": csrf_token(page)}
    )
    burst_worker(migrated, redis_url, tmp_path)
    failed = http.get(location)
    text = html.unescape(failed.text)
    assert "Échec" in text and "erreur inattendue" in text
    assert "IsADirectoryError" not in text and "Errno" not in text  # no raw exception
    assert "Relancer l'import" in text
    os.rmdir(upload_path)
    shutil.move(saved, upload_path)
    http.post(location + "/relancer", data={"csrf_token": csrf_token(failed)})
    burst_worker(migrated, redis_url, tmp_path)
    done = http.get(location)
    assert dict(re.findall(r'data-count="(\w+)">(\d+)<', done.text))["created"] == "40"


def test_a_spreadsheet_upload_is_refused_in_french_and_nothing_stays(app, client_as, tmp_path):
    http = client_as("admin")
    path = tmp_path / "clients.xlsx"
    path.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    folder = os.path.join(app.instance_path, "imports")
    os.makedirs(folder, exist_ok=True)
    before = set(os.listdir(folder))
    response = upload(http, path, "clients")
    assert response.status_code == 422
    assert "Enregistrez le fichier au format CSV" in html.unescape(response.text)
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportRun.id))) == 0
    assert set(os.listdir(folder)) == before  # the upload is deleted


def test_a_file_over_the_size_limit_gets_a_french_message(app, client_as, tmp_path):
    app.config["IMPORT_MAX_BYTES"] = 1024 * 1024
    http = client_as("admin")
    path = tmp_path / "big.csv"
    path.write_bytes(b"id;nom\n" + b"A;B\n" * 400_000)
    response = upload(http, path, "clients")
    assert response.status_code == 303
    page = http.get(response.headers["Location"])
    assert "Fichier trop gros : 1 Mo au plus" in html.unescape(page.text)
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportRun.id))) == 0
