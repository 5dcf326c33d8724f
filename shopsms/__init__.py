"""ShopSMS: the SMS module of a store chain's intranet."""

import logging
import sys

from flask import Flask

from . import config, plurals
from .extensions import babel, csrf, db, login, migrate


def create_app(test_config=None):
    """The app. Its parts (models, web, CLI, the gateways' callbacks) are imported here, when
    an app is made, not when the package is: `shopsms.sms`, the models and the services
    stay importable on their own (tests, benches, a job's process), and jobs.py can
    import this factory without importing the CLI that starts the worker."""
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

    _logging(app.config["LOG_LEVEL"])

    from . import models  # noqa: F401  (registers the tables for Alembic and create_all)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login.init_app(app)

    from .web import i18n

    babel.init_app(app, locale_selector=i18n.select_locale)
    plurals.install(app)  # « 0 destinataire », « 1 caractère » in French

    _connect_gateways(app)

    from . import cli, web

    web.init_app(app)
    cli.init_app(app)
    return app


def _connect_gateways(app):
    """What the gateways report goes to the services: they are given these callbacks
    rather than import the services (which import them)."""
    from . import gateways
    from .services import background, delivery, inbound, link_status, settings

    gateways.connect(
        app,
        gateways.Callbacks(
            config=settings.gateway_config,
            reports=delivery.record,
            inbound=inbound.receive,
            link_status=link_status.record,
            reports_later=background.outbox_reports,
        ),
    )


def _logging(level):
    """Our lines on stdout at LOG_LEVEL (systemd's journal and docker collect stdout);
    a host that configured logging already (gunicorn --log-config, pytest) keeps its own."""
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        level = "INFO"
    if not logging.getLogger().handlers:
        logging.basicConfig(
            stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    logging.getLogger("shopsms").setLevel(level)
