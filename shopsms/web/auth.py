"""Logging in and out."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from ..services import users
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
        user = users.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        flash(_l("Identifiant ou mot de passe incorrect."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/deconnexion")
def logout():
    logout_user()
    flash(_l("Vous êtes déconnecté."), "info")
    return redirect(url_for("auth.login"))
