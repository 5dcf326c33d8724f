"""Issue 19: gateway passwords are encrypted at rest (Fernet), never shown back, and a
command rotates their key."""

import os
import stat
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Setting
from shopsms.services import settings
from tests.services.test_imports import chain, run_file  # noqa: F401


def _stored(key):
    return db.session.scalar(select(Setting.value).where(Setting.key == key))


def test_a_gateway_password_is_stored_encrypted_and_read_clear(ctx):
    settings.put("kannel_password", "motdepasse-operateur")
    stored = _stored("kannel_password")
    assert "motdepasse-operateur" not in str(stored)
    assert stored.startswith("fernet:")
    assert settings.get("kannel_password") == "motdepasse-operateur"
    assert settings.get_many(["kannel_password"])["kannel_password"] == "motdepasse-operateur"
    key_file = Path(current_app.instance_path) / "settings_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_rotation_reencrypts_and_a_clear_legacy_value_gets_encrypted(app, runner):
    with app.app_context():
        settings.put("kannel_password", "ancien-secret")
        db.session.add(Setting(key="smpp_password", value="en-clair-avant"))  # before #19
        db.session.commit()
        before = _stored("kannel_password")
    result = runner.invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "2 mot(s) de passe" in result.output
    with app.app_context():
        assert _stored("kannel_password") != before
        assert _stored("smpp_password").startswith("fernet:")
        assert settings.get("kannel_password") == "ancien-secret"
        assert settings.get("smpp_password") == "en-clair-avant"
        key_file = Path(app.instance_path) / "settings_key"
        assert len(key_file.read_bytes().split()) == 1  # the old key is gone


def test_the_gateway_page_never_shows_the_password(app, client_as):
    with app.app_context():
        settings.put("kannel_password", "ne-jamais-afficher")
    page = client_as("admin").get("/parametres/passerelle")
    assert page.status_code == 200
    assert "ne-jamais-afficher" not in page.text
    assert "fernet:" not in page.text


def test_a_new_api_token_never_travels_in_the_session_cookie(app, client_as):
    import base64
    import re
    import zlib

    from tests.conftest import csrf_token

    admin = client_as("admin")
    page = admin.get("/parametres/api")
    answer = admin.post("/parametres/api", data={"csrf_token": csrf_token(page), "name": "Caisse"})
    assert answer.status_code == 303
    cookie = admin.get_cookie("session").value
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if cookie.startswith("."):
        raw = zlib.decompress(raw)
    assert b"shs_" not in raw  # the token is not in the (signed, readable) cookie
    shown = admin.get("/parametres/api")
    token = re.search(r'value="(shs_[^"]+)" data-testid="new-token"', shown.text).group(1)
    assert token.encode() not in raw
    assert 'data-testid="new-token"' not in admin.get("/parametres/api").text  # once


def test_reject_files_are_readable_by_shopsms_only(chain, tmp_path):  # noqa: F811
    path = tmp_path / "clients.csv"
    path.write_text("id;nom;magasin;tel1\nC1;UN;001;abc\n", encoding="utf-8")
    run = run_file(path, "clients")
    assert stat.S_IMODE(os.stat(run.reject_path).st_mode) == 0o600


def test_reject_files_go_after_the_keep_setting(app, chain, tmp_path):  # noqa: F811
    from datetime import timedelta

    from shopsms.models import utcnow
    from shopsms.models.integration import ImportRun
    from shopsms.services.imports import job

    path = tmp_path / "clients.csv"
    path.write_text("id;nom;magasin;tel1\nC1;UN;001;abc\n", encoding="utf-8")
    run = run_file(path, "clients")
    row = db.session.scalar(select(ImportRun))
    row.finished_at = utcnow() - timedelta(days=app.config.get("IMPORT_KEEP_DAYS", 30) + 1)
    db.session.commit()
    job.sweep()
    db.session.commit()
    assert not Path(run.reject_path).exists()
