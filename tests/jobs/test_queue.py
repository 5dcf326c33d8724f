import os

from rq.job import JobStatus

from shopsms.queue import EmbeddedRedis, get_queue
from shopsms.worker import Worker


def add(a, b):
    return a + b


def test_a_job_runs_through_the_real_redis(ctx, redis_client):
    job = get_queue().enqueue(add, 2, 3)
    assert redis_client.exists(job.key)
    Worker([get_queue()], connection=redis_client).work(burst=True)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 5


def test_embedded_redis_starts_is_shared_and_stops_without_leaving_a_process(tmp_path):
    server = EmbeddedRedis(tmp_path).start()
    pid = server.process.pid
    server.client().set("k", "v")
    # A second opener of the same folder shares the server instead of starting one.
    other = EmbeddedRedis(tmp_path).start()
    assert other.process is None and other.client().get("k") == b"v"
    server.stop()
    assert not server.is_running()
    assert not server.socket.exists()
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive
