from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shopsms.extensions import db


def test_migrations_build_exactly_the_models_schema(ctx):
    """The schema the migrations made (the fixture ran them) matches the models."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "run `flask db migrate` and commit the new migration"
