"""deploy/: the systemd units and the compose file run the commands this version has."""

import configparser

import yaml

from shopsms import create_app
from shopsms.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def _flask_command_exists(words):
    app = create_app({"TESTING": True})
    group = app.cli
    with app.app_context():
        import click

        ctx = click.Context(group)
        command = group.get_command(ctx, words[0])
        for word in words[1:]:
            assert command is not None, words
            command = command.get_command(ctx, word)
    return command is not None


def test_the_units_start_commands_that_exist():
    for name in ("shopsms-web.service", "shopsms-worker@.service", "shopsms-smpp-receiver.service"):
        unit = configparser.ConfigParser(interpolation=None, strict=False)
        unit.read(DEPLOY / "systemd" / name)
        start = unit["Service"]["ExecStart"]
        assert unit["Service"]["Restart"] == "always"
        if "flask --app app" in start:
            assert _flask_command_exists(start.split("flask --app app ")[1].split())


def test_the_compose_file_runs_postgresql_redis_the_web_and_two_workers():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert sorted(services) == ["postgres", "redis", "web", "worker1", "worker2"]
    for worker in ("worker1", "worker2"):
        assert _flask_command_exists(services[worker]["command"][3:])
        assert services[worker]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert "/sante" in " ".join(services["web"]["healthcheck"]["test"])
