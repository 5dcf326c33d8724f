"""ShopSMS: the SMS module of a store chain's intranet."""

from flask import Flask

from . import config, plurals
from .extensions import babel, csrf, db, htmx, login, migrate


def create_app(test_config=None):
    app = Flask(
        __name__,
        instance_path=config.instance_path(),
        instance_relative_config=True,
        template_folder=str(config.PROJECT_ROOT / "templates"),
        static_folder=str(config.PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(config.from_environment(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.update(test_config)

    from . import models  # noqa: F401  (registers the tables for Alembic and create_all)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login.init_app(app)
    htmx.init_app(app)

    from .web import i18n

    babel.init_app(app, locale_selector=i18n.select_locale)
    plurals.install(app)  # « 0 destinataire », « 1 caractère » in French

    from . import cli, web

    web.init_app(app)
    cli.init_app(app)
    return app
