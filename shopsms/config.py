"""Settings from the environment, then `instance/config.py` (which wins).

Every variable is listed in the README; the defaults run on one machine with
nothing installed: SQLite in instance/, an embedded Redis, the outbox gateway.
"""

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_path():
    return os.environ.get("SHOPSMS_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


def _secret_key(instance):
    """A stable key without making anyone configure one: generated once, kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def normalize_database_url(url):
    """postgres:// and postgresql:// (as hosts hand them out) use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _database_url(instance):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance) / 'shopsms.db'}"
    return normalize_database_url(url)


def _int(name, default):
    return int(os.environ.get(name) or default)


def from_environment(instance):
    secret_key = _secret_key(instance)
    return {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": _database_url(instance),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "SMS_GATEWAY": os.environ.get("SMS_GATEWAY", "outbox"),
        # Where gateways call us back (delivery reports, inbound SMS), and the secret
        # they must show; by default derived from SECRET_KEY, so nothing to configure.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "HOOKS_SECRET": os.environ.get("HOOKS_SECRET")
        or hmac.new(secret_key.encode(), b"shopsms-hooks", hashlib.sha256).hexdigest()[:32],
        # Fernet keys for the gateway passwords kept in « Paramètres » (the first encrypts);
        # without it, instance/settings_key (services/secret_box.py).
        "SETTINGS_KEYS": os.environ.get("SETTINGS_KEYS", ""),
        "KANNEL_SENDSMS_URL": os.environ.get(
            "KANNEL_SENDSMS_URL", "http://127.0.0.1:13013/cgi-bin/sendsms"
        ),
        "KANNEL_USERNAME": os.environ.get("KANNEL_USERNAME", ""),
        "KANNEL_PASSWORD": os.environ.get("KANNEL_PASSWORD", ""),
        "KANNEL_SMSC": os.environ.get("KANNEL_SMSC", ""),
        "SMPP_HOST": os.environ.get("SMPP_HOST", "127.0.0.1"),
        "SMPP_PORT": _int("SMPP_PORT", 2775),
        "SMPP_SYSTEM_ID": os.environ.get("SMPP_SYSTEM_ID", ""),
        "SMPP_PASSWORD": os.environ.get("SMPP_PASSWORD", ""),
        "SMPP_SYSTEM_TYPE": os.environ.get("SMPP_SYSTEM_TYPE", ""),
        # Our own enquire_link on an idle link: SMSCs unbind sessions that stay silent.
        "SMPP_ENQUIRE_SECONDS": _int("SMPP_ENQUIRE_SECONDS", 30),
        # How often each worker beats and the sweep runs, when a worker that stopped
        # beating is dead (its claims released), and when any claim counts as abandoned.
        "SWEEP_SECONDS": _int("SWEEP_SECONDS", 5),
        "WORKER_DEAD_SECONDS": _int("WORKER_DEAD_SECONDS", 15),
        "CLAIM_STALE_SECONDS": _int("CLAIM_STALE_SECONDS", 120),
        # How long a campaign job sends before handing over to a fresh job (fairness).
        "CAMPAIGN_JOB_SECONDS": _int("CAMPAIGN_JOB_SECONDS", 50),
        # Workers that may send one campaign side by side (PostgreSQL; SQLite: one).
        "SENDING_JOBS_PER_CAMPAIGN": _int("SENDING_JOBS_PER_CAMPAIGN", 4),
        # Largest client file « Import » accepts, and how long an import job works
        # before handing the worker to SMS jobs (it then resumes in a new job).
        "IMPORT_MAX_BYTES": _int("IMPORT_MAX_BYTES", 512 * 1024 * 1024),
        "IMPORT_JOB_SECONDS": _int("IMPORT_JOB_SECONDS", 25),
        # Log lines on stdout (one per job and sweep; gunicorn's access log, one per
        # request): DEBUG, INFO, WARNING or ERROR.
        "LOG_LEVEL": (os.environ.get("LOG_LEVEL") or "INFO").upper(),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ("fr", "en"),
        "WTF_CSRF_TIME_LIMIT": None,  # a tablet left open all day must still submit
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        # « Rester connecté » lasts a month, not Flask-Login's year.
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
    }
