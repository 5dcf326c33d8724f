import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, make_url, select, text

from shopsms import config
from shopsms.extensions import db


def test_migrations_build_exactly_the_models_schema(ctx):
    """The schema the migrations made (the fixture ran them) matches the models."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "run `flask db migrate` and commit the new migration"


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database of its own (a file, or one more database on the PostgreSQL
    server the suite runs on), for migrating step by step."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path / 'steps.db'}"
        return
    server = make_url(config.normalize_database_url(server_url))
    name = f"shopsms_test_{os.getpid()}_steps"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_default_workshop_return_message_is_signed_unless_someone_wrote_their_own(
    fresh_database, redis_url
):
    from flask_migrate import upgrade

    from shopsms import create_app
    from shopsms.models import Setting, Store
    from shopsms.services import settings

    old = (
        "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est disponible en magasin. "
        "Merci de vous munir de votre ticket pour venir récupérer votre article."
    )
    own = "Votre bijou est prêt. Bijouterie Lumen"
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database, "REDIS_URL": redis_url})
    with app.app_context():
        upgrade(revision="0009")
        for code in ("001", "002", "003"):
            db.session.add(Store(code=code, name=f"Magasin {code}", city="Pau"))
        db.session.flush()
        stores = [s.id for s in db.session.scalars(select(Store).order_by(Store.code))]
        db.session.add_all(
            [
                Setting(key="workshop_return_message", store_id=None, value=old),
                Setting(key="workshop_return_message", store_id=stores[0], value=own),
                Setting(key="workshop_return_message", store_id=stores[1], value=old),
            ]
        )
        db.session.commit()
        upgrade()
        signed = settings.DEFAULTS["workshop_return_message"]
        assert signed.endswith("\n<MAGASIN>")
        assert settings.get("workshop_return_message") == signed
        assert settings.get("workshop_return_message", stores[0]) == own  # untouched
        assert settings.get("workshop_return_message", stores[1]) == signed
        assert settings.get("workshop_return_message", stores[2]) == signed  # the chain's
        db.session.remove()
        db.engine.dispose()
