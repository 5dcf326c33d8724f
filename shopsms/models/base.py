"""What every model module shares."""

from datetime import UTC, datetime


def utcnow():
    """Naive UTC: stored the same way on SQLite and PostgreSQL, shown in Europe/Paris."""
    return datetime.now(UTC).replace(tzinfo=None)
