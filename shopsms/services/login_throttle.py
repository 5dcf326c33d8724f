"""Failed logins counted per account and per address, over a sliding window.

In Redis (shared by every web process), and in this process's memory while Redis cannot
be reached: a Redis outage must neither open the door to guessing nor lock everyone out.
"""

import contextlib
import hashlib
import threading
import time
from collections import deque

import redis
from flask import current_app

from ..queue import get_redis

WINDOW_SECONDS = 15 * 60
MAX_PER_ACCOUNT = 10
# An address may be a whole store behind one router: more room than one account gets.
MAX_PER_ADDRESS = 50

_memory: dict[str, deque[float]] = {}
_memory_lock = threading.Lock()


def _settings() -> tuple[float, int, int]:
    config = current_app.config
    return (
        config.get("LOGIN_WINDOW_SECONDS", WINDOW_SECONDS),
        config.get("LOGIN_MAX_FAILURES", MAX_PER_ACCOUNT),
        config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", MAX_PER_ADDRESS),
    )


def _keys(username: str | None, address: str | None) -> tuple[str, str]:
    # Hashed: a key's length and characters must not depend on what was typed.
    def key(kind: str, value: str | None) -> str:
        digest = hashlib.sha256((value or "").strip().lower().encode()).hexdigest()[:32]
        namespace = current_app.config.get("LOGIN_THROTTLE_NAMESPACE", "")
        return f"shopsms:login-failures:{namespace}{kind}:{digest}"

    return key("account", username), key("address", address)


def _redis() -> redis.Redis:
    return get_redis()


def _redis_failures(key: str, window: float, now: float, add: bool) -> tuple[int, float]:
    pipe = _redis().pipeline()
    pipe.zremrangebyscore(key, 0, now - window)
    if add:
        pipe.zadd(key, {f"{now:.6f}": now})
        pipe.expire(key, int(window) + 1)
    pipe.zrange(key, 0, 0, withscores=True)
    pipe.zcard(key)
    *_, oldest, count = pipe.execute()
    return count, (oldest[0][1] if oldest else now)


def _memory_failures(key: str, window: float, now: float, add: bool) -> tuple[int, float]:
    with _memory_lock:
        times = _memory.setdefault(key, deque())
        while times and times[0] <= now - window:
            times.popleft()
        if add:
            times.append(now)
        if not times:
            _memory.pop(key, None)
        return len(times), (times[0] if times else now)


def _failures(key: str, window: float, add: bool = False) -> tuple[int, float]:
    now = time.time()
    try:
        return _redis_failures(key, window, now, add)
    except (redis.RedisError, OSError):
        return _memory_failures(key, window, now, add)


def seconds_to_wait(username: str | None, address: str | None) -> int:
    """0 when this account may try from this address, else how long until it may."""
    window, per_account, per_address = _settings()
    wait = 0.0
    for key, limit in zip(_keys(username, address), (per_account, per_address), strict=True):
        count, oldest = _failures(key, window)
        if count >= limit:
            wait = max(wait, oldest + window - time.time())
    return int(wait) + 1 if wait > 0 else 0


def record_failure(username: str | None, address: str | None) -> None:
    window, _, _ = _settings()
    for key in _keys(username, address):
        _failures(key, window, add=True)


def forget_account(username: str | None) -> None:
    """A successful login wipes the account's failures (not the address's)."""
    key = _keys(username, "")[0]
    with contextlib.suppress(redis.RedisError, OSError):
        _redis().delete(key)
    with _memory_lock:
        _memory.pop(key, None)
