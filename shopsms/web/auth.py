"""Logging in and out."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from ..plurals import ngettext
from ..services import login_throttle, users
from .redirects import safe_next

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(
        _l("Identifiant"), validators=[DataRequired(_l("Indiquez votre identifiant."))]
    )
    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(_l("Indiquez votre mot de passe."))]
    )
    remember = BooleanField(_l("Rester connecté sur cet appareil"))


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username, address = form.username.data, request.remote_addr
        wait = login_throttle.seconds_to_wait(username, address)
        if wait:
            # Said for known and unknown logins alike, and before any password check.
            minutes = max(1, -(-wait // 60))
            flash(
                ngettext(
                    "Trop d'essais de connexion : réessayez dans %(num)d minute.",
                    "Trop d'essais de connexion : réessayez dans %(num)d minutes.",
                    minutes,
                ),
                "error",
            )
            return render_template("auth/login.html", form=form), 429, {"Retry-After": wait}
        user = users.authenticate(username, form.password.data)
        if user is not None:
            login_throttle.forget_account(username)
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        login_throttle.record_failure(username, address)
        flash(_l("Identifiant ou mot de passe incorrect."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/deconnexion")
def logout():
    if current_user.is_authenticated:
        # The session version goes up: a copy of this cookie, or a remember-me cookie
        # left on another device, opens nothing any more.
        users.end_sessions(current_user.id)
    logout_user()
    flash(_l("Vous êtes déconnecté."), "info")
    return redirect(url_for("auth.login"))


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Indiquez votre mot de passe actuel."))],
    )
    new = PasswordField(
        _l("Nouveau mot de passe (8 caractères au moins)"),
        validators=[DataRequired(_l("Indiquez le nouveau mot de passe."))],
    )
    confirmation = PasswordField(
        _l("Nouveau mot de passe, encore"),
        validators=[DataRequired(_l("Retapez le nouveau mot de passe."))],
    )


@bp.route("/compte", methods=["GET", "POST"])
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = users.change_password(
                current_user.id, form.current.data, form.new.data, form.confirmation.data
            )
        except users.UserError as error:
            form.current.errors = [str(error)] if "actuel" in str(error) else []
            form.new.errors = [] if form.current.errors else [str(error)]
        else:
            # This device stays signed in with the new version; every other one ends.
            login_user(user)
            flash(_l("Mot de passe changé : vos autres appareils sont déconnectés."), "info")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.post("/compte/deconnecter-partout")
def sign_out_everywhere():
    users.end_sessions(current_user.id)
    logout_user()
    flash(_l("Vous êtes déconnecté sur tous vos appareils."), "info")
    return redirect(url_for("auth.login"))
