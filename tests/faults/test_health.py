"""« /sante » answers load balancers without a login: 200 when the database and Redis
answer and a worker beats, 503 otherwise, with what is wrong."""

from shopsms.services import campaigns, workers
from shopsms.services.campaigns import Recipient

from .processes import free_port


def test_health_says_what_is_wrong_without_a_login(
    app, client, redis_client, make_client, credits_available
):
    answer = client.get("/sante")
    assert answer.status_code == 503  # no worker beats yet
    assert answer.json["workers"] == {"ok": False, "alive": 0}
    assert answer.json["database"] == {"ok": True} and answer.json["redis"] == {"ok": True}

    with app.app_context():
        workers.beat("shop-host:4242")
    answer = client.get("/sante")
    assert answer.status_code == 200 and answer.json["status"] == "ok"
    assert answer.json["workers"] == {"ok": True, "alive": 1}
    assert answer.json["oldest_pending_seconds"] is None

    credits_available(5)
    with app.app_context():
        campaign = campaigns.draft(
            "single", body="Bonjour", recipients=[Recipient(client_id=make_client())]
        )
        campaigns.queue_now(campaign.id)
    assert client.get("/sante").json["oldest_pending_seconds"] >= 0

    with app.app_context():
        workers.stopped("shop-host:4242")
    assert client.get("/sante").status_code == 503

    with app.app_context():
        workers.beat("shop-host:4242")
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app.extensions.pop("redis", None)
    answer = client.get("/sante")
    assert answer.status_code == 503
    assert answer.json["redis"]["ok"] is False and answer.json["status"] == "degraded"


def test_a_hung_redis_is_reported_not_waited_for(app, client):
    """A Redis that accepts the connection and then never answers (a frozen server): the
    probe gives up and says so, instead of holding the load balancer's request."""
    import socket

    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # the kernel accepts; nobody ever reads or answers
    try:
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        app.extensions.pop("redis", None)
        answer = client.get("/sante")
        assert answer.status_code == 503
        assert answer.json["redis"] == {"ok": False, "error": "TimeoutError"}
    finally:
        hung.close()
