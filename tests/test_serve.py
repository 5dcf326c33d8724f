"""`make run`'s last step: everything up, then Ctrl-C leaves no process behind."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from shopsms.config import PROJECT_ROOT


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _descendants(pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    children = {}
    pairs = [tuple(map(int, line.split())) for line in out.stdout.strip().splitlines()]
    for child, parent in pairs:
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return not state.stdout.strip().startswith("Z")


def test_serve_starts_web_worker_and_redis_then_ctrl_c_stops_them_all(migrated, tmp_path):
    port = _free_port()
    env = dict(os.environ, SHOPSMS_INSTANCE_PATH=str(tmp_path), DATABASE_URL=migrated)
    env.pop("REDIS_URL", None)  # the embedded one, as on a fresh machine
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "serve",
            "--port",
            str(port),
            "--web-workers",
            "1",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion") as response:
                    body = response.read().decode()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "the web server did not come up"
                time.sleep(0.3)
        assert "Connexion" in body
        # A client that sends half a request and waits (a tablet on a weak Wi-Fi) must
        # not hold the only web process: the next person's page still comes.
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET /connexion HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion", timeout=10) as r:
                assert r.status == 200
        # Gateways' callbacks carry the hooks secret in the query: never in the access log.
        urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion?secret=Sekr3tValue").read()
        assert (tmp_path / "redis.sock").exists()
        descendants = _descendants(process.pid)
        assert len(descendants) >= 3  # redis-server, the worker, gunicorn and its workers
    finally:
        # What a terminal does on Ctrl-C: SIGINT to the whole foreground group.
        os.killpg(process.pid, signal.SIGINT)
        # Bounded by serve itself (15 s for the children, then 10 s for Redis); a CI
        # machine running two suites at once once took longer than 30 s.
        output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    # A clean stop: no worker shouting that Redis vanished before it was done.
    assert "Traceback" not in output and "ConnectionError" not in output, output
    assert "GET /connexion" in output and "Sekr3tValue" not in output
    # The children may still be exiting once the parent has: wait for them (bounded).
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in descendants) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in descendants if _alive(pid)] == []
    assert not (tmp_path / "redis.sock").exists()
