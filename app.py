"""Entry point: `flask --app app …` and `gunicorn app:app`."""

from shopsms import create_app

app = create_app()
