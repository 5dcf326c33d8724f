"""Browser tests' own fixture: a real worker process beside the live server."""

import os
import subprocess
import sys

import pytest

from shopsms.config import PROJECT_ROOT


@pytest.fixture
def worker(migrated, redis_url, redis_client, tmp_path):
    """A real `flask worker` (with its scheduler, for the delayed delivery reports) on
    the test's database and Redis, started after redis_client emptied it."""
    env = dict(
        os.environ,
        DATABASE_URL=migrated,
        REDIS_URL=redis_url,
        SHOPSMS_INSTANCE_PATH=str(tmp_path / "worker"),
        SMS_GATEWAY="outbox",
        SWEEP_SECONDS="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
