"""« Import » of the point of sale's files, and « Paramètres > API » tokens."""

import os
import secrets
from pathlib import Path

import redis
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import TemplateNotFound
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from .. import access
from ..extensions import db
from ..models.integration import ImportRun
from ..queue import get_redis
from ..services import api_tokens, imports, listings
from ..services.imports import FIELDS, KIND_LABELS
from .access import role_required
from .forms import Form, IdField, TextField
from .helpers import render

bp = Blueprint("integration", __name__)

RECENT_RUNS = 20
NEW_TOKEN_KEY = "integration.new_api_token"
NEW_TOKEN_PREFIX = "shopsms:new-api-token:"
NEW_TOKEN_SECONDS = 300


def _limit_upload():
    """The upload's size limit, set before anything reads the body (the CSRF check reads
    the form first, hence an app-wide hook at the head of the list)."""
    if request.endpoint == "integration.imports" and request.method == "POST":
        request.max_content_length = current_app.config.get("IMPORT_MAX_BYTES")


@bp.record_once
def _register_limit(state):
    state.app.before_request_funcs.setdefault(None, []).insert(0, _limit_upload)


@bp.app_errorhandler(RequestEntityTooLarge)
def _too_large(error):
    if request.endpoint != "integration.imports":
        return error
    limit = current_app.config.get("IMPORT_MAX_BYTES") or 0
    flash(
        _(
            "Fichier trop gros : %(size)d Mo au plus. Découpez-le en plusieurs fichiers.",
            size=limit // (1024 * 1024),
        ),
        "error",
    )
    return redirect(url_for("integration.imports"), 303)


def _recent_runs():
    query = select(ImportRun).order_by(ImportRun.created_at.desc(), ImportRun.id.desc())
    query = access.scoped(query, ImportRun.store_id, current_user)
    return list(db.session.scalars(query.limit(RECENT_RUNS)))


def _run_or_404(run_id):
    run = db.session.get(ImportRun, run_id)
    if run is None or not access.may_see_store(current_user, run.store_id):
        abort(404)
    return run


class ImportForm(Form):
    """« Importer un fichier »: which kind of rows; the file comes in request.files."""

    kind = TextField(default="clients")


class MappingForm(Form):
    """A run's column mapping: « map-<column number> » → the field it fills."""

    @classmethod
    def of(cls, headers):
        form = type("RunMappingForm", (cls,), {})
        for index in range(len(headers)):
            setattr(form, f"map_{index}", TextField(name=f"map-{index}"))
        return form()

    def mapping(self, headers):
        return {
            header: field
            for index, header in enumerate(headers)
            if (field := self[f"map_{index}"].data)
        }


class TokenForm(Form):
    """« Créer un jeton »: its name, and its store (head office picks one)."""

    name = TextField(strip=False)
    store = IdField()


@bp.route("/import", methods=["GET", "POST"], endpoint="imports")
@role_required("manager")
def import_page():
    kind, status = ImportForm().kind.data, 200
    if request.method == "POST":
        status = 422
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choisissez le fichier à importer."), "error")
        else:
            path = imports.import_path()
            try:
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # client data
                upload.save(path)
                run = imports.start(
                    path,
                    kind=kind,
                    filename=upload.filename,
                    user=current_user,
                    store_id=access.store_scope(current_user),
                )
            except imports.ImportError_ as error:
                flash(str(error), "error")
            except OSError:
                path.unlink(missing_ok=True)
                current_app.logger.exception("import upload not saved")
                flash(
                    _("Le fichier n'a pas pu être enregistré sur le serveur : réessayez."), "error"
                )
            else:
                return redirect(url_for("integration.run", run_id=run.id))
    page = render_template(
        "integration/imports.html", kinds=KIND_LABELS, kind=kind, runs=_recent_runs()
    )
    return page, status


def _mapping_from_form(run):
    return MappingForm.of(run.headers).mapping(run.headers)


def _run_context(run, mapping=None, errors=None):
    mapping = run.mapping if mapping is None else mapping
    fields = FIELDS[run.kind]
    context = {
        "run": run,
        "kinds": KIND_LABELS,
        "fields": fields,
        "mapping": mapping,
        "stuck": imports.stuck(run),
    }
    if run.status == "draft" and Path(run.upload_path).exists():
        context["rows"] = imports.preview(run, mapping)
        mapped = {field for field in mapping.values() if field}
        context["columns"] = [field for field in fields if field.name in mapped]
        context["errors"] = (
            errors if errors is not None else imports.mappings.check(run.kind, mapping)
        )
    return context


@bp.get("/import/<int:run_id>")
@role_required("manager")
def run(run_id):
    import_run = _run_or_404(run_id)
    return render_template("integration/run.html", **_run_context(import_run))


@bp.post("/import/<int:run_id>/apercu")
@role_required("manager")
def preview(run_id):
    import_run = _run_or_404(run_id)
    if import_run.status != "draft":
        return redirect(url_for("integration.run", run_id=run_id))
    context = _run_context(import_run, _mapping_from_form(import_run))
    return render("integration/run.html", "integration/_mapping.html", **context)


@bp.post("/import/<int:run_id>/lancer")
@role_required("manager")
def launch(run_id):
    import_run = _run_or_404(run_id)
    mapping = _mapping_from_form(import_run)
    try:
        imports.confirm(import_run.id, mapping)
    except imports.ImportError_ as error:
        db.session.rollback()
        import_run = _run_or_404(run_id)
        context = _run_context(import_run, mapping, errors=[str(error)])
        return render_template("integration/run.html", **context), 422
    return redirect(url_for("integration.run", run_id=run_id))


@bp.post("/import/<int:run_id>/abandonner")
@role_required("manager")
def abandon(run_id):
    _run_or_404(run_id)
    try:
        imports.abandon(run_id)
    except imports.ImportError_ as error:
        flash(str(error), "error")
        return redirect(url_for("integration.run", run_id=run_id))
    flash(_("Import abandonné : rien n'a été importé."), "info")
    return redirect(url_for("integration.imports"))


@bp.post("/import/<int:run_id>/relancer")
@role_required("manager")
def retry(run_id):
    _run_or_404(run_id)
    try:
        imports.retry(run_id)
    except imports.ImportError_ as error:
        flash(str(error), "error")
    return redirect(url_for("integration.run", run_id=run_id))


@bp.get("/import/<int:run_id>/progression")
@role_required("manager")
def progress(run_id):
    import_run = _run_or_404(run_id)
    return render("integration/run.html", "integration/_progress.html", **_run_context(import_run))


@bp.get("/import/<int:run_id>/rejets.csv")
@role_required("manager")
def rejects(run_id):
    import_run = _run_or_404(run_id)
    if not import_run.reject_path or not Path(import_run.reject_path).exists():
        abort(404)
    stem = Path(import_run.filename).stem or import_run.kind
    return send_file(
        import_run.reject_path,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"rejets-{stem}.csv",
    )


# --- « Paramètres > API » -----------------------------------------------------------------


def _has_settings_tabs():
    try:
        current_app.jinja_env.get_template("settings/_tabs.html")
    except TemplateNotFound:
        return False
    return True


def _tokens_page(new_token=None, name="", status=200):
    page = render_template(
        "integration/tokens.html",
        tokens=api_tokens.listed(current_user),
        stores=listings.stores(current_user),
        new_token=new_token,
        name=name,
        has_tabs=_has_settings_tabs(),
        active="api",
    )
    # A token on screen must not stay in a cache (shared tablet, proxy, back button).
    return page, status, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.route("/parametres/api", methods=["GET", "POST"])
@role_required("manager")
def tokens():
    if request.method == "GET":
        # Shown once: the session holds it until this page has displayed it.
        return _tokens_page(new_token=_take_new_token())
    form = TokenForm()
    name = form.name.data
    store_id = form.store.data if access.every_store(current_user) else current_user.store_id
    try:
        _row, token = api_tokens.create(name, store_id=store_id, user=current_user)
    except api_tokens.TokenError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _tokens_page(name=name, status=422)
    # Shown on the next page only (a refresh creates nothing): it is stored hashed,
    # nobody can read it again. Until then it waits in Redis for a few minutes, under a
    # random handle the session holds: the (signed, not encrypted) cookie never carries it.
    handle = secrets.token_urlsafe(24)
    try:
        get_redis().set(f"{NEW_TOKEN_PREFIX}{handle}", token, ex=NEW_TOKEN_SECONDS)
    except (redis.RedisError, OSError):
        return _tokens_page(new_token=token)  # Redis down: shown in this very answer
    session[NEW_TOKEN_KEY] = handle
    return redirect(url_for("integration.tokens"), 303)


def _take_new_token():
    handle = session.pop(NEW_TOKEN_KEY, None)
    if not handle:
        return None
    try:
        token = get_redis().getdel(f"{NEW_TOKEN_PREFIX}{handle}")
    except (redis.RedisError, OSError):
        return None
    return token.decode() if token else None


@bp.post("/parametres/api/<int:token_id>/revoquer")
@role_required("manager")
def revoke(token_id):
    try:
        row = api_tokens.revoke(token_id, user=current_user)
    except api_tokens.TokenError as error:
        flash(str(error), "error")
    else:
        flash(_("Jeton « %(name)s » révoqué.", name=row.name), "success")
    return redirect(url_for("integration.tokens"))
