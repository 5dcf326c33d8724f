"""What each process knows of its link to the outside (the SMS gateway, its receiver):
up or down, since when, and the last error in words a head office can act on
(« Connexion SMPP refusée : mot de passe »). The supervision page reads it.

Kept in Redis, one hash per link, because it is a live reading and not a record:
a Redis that is down is itself what the supervision page then shows. Writing it must
never stop a sending, so every failure to write is swallowed.
"""

import contextlib
import json
import os
import socket
import time

import redis

from ..queue import get_redis

KEY = "shopsms:links"
# link → (ok, detail, monotonic time): to write changes, not every call
_last_written: dict[str, tuple] = {}
REWRITE_SECONDS = 30


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def record(link: str, ok: bool, detail: str = "", *, process: str | None = None) -> None:
    """Say how `link` (e.g. "smpp:transmitter", "smpp:receiver", "kannel") is doing in
    this process. Cheap to call on every batch: it writes on a change, or every 30 s."""
    process = process or process_name()
    field = f"{link}@{process}"
    now = time.monotonic()
    previous = _last_written.get(field)
    if previous and previous[:2] == (ok, detail) and now - previous[2] < REWRITE_SECONDS:
        return
    with contextlib.suppress(redis.RedisError, OSError, RuntimeError):
        connection = get_redis()
        old = connection.hget(KEY, field)
        entry = json.loads(old) if old else {}
        stamp = time.time()
        entry.update(link=link, process=process, ok=bool(ok), detail=detail, seen_at=stamp)
        if ok:
            entry["last_ok_at"] = stamp
        else:
            entry["last_error_at"] = stamp
            entry["last_error"] = detail
        connection.hset(KEY, field, json.dumps(entry))
        _last_written[field] = (ok, detail, now)


def current() -> list[dict]:
    """Every link's last reading, newest first: dicts with link, process, ok, detail,
    seen_at, last_ok_at, last_error_at, last_error (epoch seconds). Raises
    redis.RedisError when Redis cannot be read: the caller says so."""
    entries = [json.loads(value) for value in get_redis().hgetall(KEY).values()]
    return sorted(entries, key=lambda entry: entry.get("seen_at", 0), reverse=True)


def forget(process: str) -> None:
    """A process that stops cleanly removes its links (a dead one's age out on screen)."""
    with contextlib.suppress(redis.RedisError, OSError, RuntimeError):
        connection = get_redis()
        stale = [field for field in connection.hkeys(KEY) if field.decode().endswith(f"@{process}")]
        if stale:
            connection.hdel(KEY, *stale)
