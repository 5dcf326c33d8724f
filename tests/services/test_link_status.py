from shopsms.services import link_status


def test_a_link_reading_keeps_its_last_error_after_it_recovers(ctx, redis_client):
    link_status.record(
        "smpp:transmitter", False, "Connexion SMPP refusée : mot de passe", process="w1"
    )
    link_status.record("smpp:transmitter", True, "lié", process="w1")

    (entry,) = link_status.current()
    assert entry["ok"] is True
    assert entry["detail"] == "lié"
    assert entry["last_error"] == "Connexion SMPP refusée : mot de passe"
    assert entry["last_ok_at"] >= entry["last_error_at"]


def test_each_process_has_its_own_reading_and_forgets_only_its_own(ctx, redis_client):
    link_status.record("smpp:transmitter", True, process="host:1")
    link_status.record("smpp:transmitter", False, "injoignable", process="host:11")

    link_status.forget("host:1")

    assert [entry["process"] for entry in link_status.current()] == ["host:11"]
