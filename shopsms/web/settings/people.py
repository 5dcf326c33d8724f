"""« Utilisateurs » (head office): who may log in, and « Déconnecter partout » for a
lost tablet or a person who left."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import Store, User
from ...services import listings, users
from ..access import role_required
from ..helpers import render
from . import bp


@bp.get("/utilisateurs")
@role_required("admin")
def people():
    query = (
        select(User, Store.name)
        .outerjoin(Store, Store.id == User.store_id)
        .order_by(Store.name.is_not(None), Store.name, User.username)
    )
    results = listings.paginate(query, page=listings.page_number(request.args.get("page")))
    return render("settings/people.html", active="utilisateurs", results=results)


@bp.post("/utilisateurs/<int(max=2147483647):user_id>/deconnecter")
@role_required("admin")
def end_sessions(user_id):
    if db.session.get(User, user_id) is None:
        abort(404)
    user = users.end_sessions(user_id, by=current_user)
    flash(_("%(name)s est déconnecté sur tous ses appareils.", name=user.username), "info")
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("settings.people", page=request.args.get("page")))
