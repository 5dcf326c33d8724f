"""Gateway passwords at rest: encrypted with Fernet (cryptography), never stored in clear.

The keys come from SETTINGS_KEYS (comma-separated Fernet keys, the first one encrypts,
every one decrypts) or else from instance/settings_key (one key a line, made on first use,
mode 0600). `flask --app app secrets rotate` encrypts every secret with a new key."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

PREFIX = "fernet:"


def _key_file() -> Path:
    return Path(current_app.instance_path) / "settings_key"


def _keys() -> list[bytes]:
    configured = current_app.config.get("SETTINGS_KEYS") or ""
    if configured:
        return [key.strip().encode() for key in configured.split(",") if key.strip()]
    path = _key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(Fernet.generate_key() + b"\n")
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()]


def _box(keys: list[bytes] | None = None) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys or _keys()])


def encrypt(value: str) -> str:
    if not value:
        return value
    return PREFIX + _box().encrypt(value.encode()).decode()


def decrypt(stored: Any) -> Any:
    """The clear value; a value from before encryption (no prefix) reads as it is."""
    if not isinstance(stored, str) or not stored.startswith(PREFIX):
        return stored
    try:
        return _box().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        current_app.logger.error("a gateway secret cannot be decrypted: SETTINGS_KEYS changed?")
        return ""


def rotate(rows: Iterable[Any]) -> tuple[int, bytes]:
    """Encrypt every row's value (a Setting) with a new first key: in the key file, a new
    key is made and the old ones dropped once every row uses it; with SETTINGS_KEYS the
    person put the new key first and removes the old ones after. Returns the rows done."""
    configured = bool(current_app.config.get("SETTINGS_KEYS"))
    old = _keys()
    keys = old if configured else [Fernet.generate_key(), *old]
    if not configured:  # the new key first, the old ones kept until the rows are saved
        _key_file().write_bytes(b"\n".join(keys) + b"\n")
    box = _box(keys)
    done = 0
    for row in rows:
        if not isinstance(row.value, str) or not row.value:
            continue
        clear = decrypt(row.value) if row.value.startswith(PREFIX) else row.value
        row.value = PREFIX + box.encrypt(clear.encode()).decode()
        done += 1
    return done, keys[0]


def forget_old_keys() -> None:
    """After rotate() and its commit: the key file keeps only the new key."""
    if not current_app.config.get("SETTINGS_KEYS"):
        _key_file().write_bytes(_keys()[0] + b"\n")
