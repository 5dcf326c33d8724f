"""Fixtures for tests against real peers.

Kannel: `kannel` starts bearerbox, the fake SMSC and smsbox for one test, on free
ports, with its sms-service and our dlr-urls pointing at the test's live server, and
switches the test's app to the Kannel gateway. Everything stops at the end of the test.
"""

import logging

import pytest

from tests.peers import kannel as kannel_peer

HOOKS_SECRET = "peer-tests-hooks-secret"


@pytest.fixture(autouse=True)
def long_messages_allowed(app):
    """The peers are tested with concatenated SMS: head office allows 5 parts (the
    chain's default is the seeds' one SMS, refused beyond by costing's one rule)."""
    from shopsms.services import settings

    with app.app_context():
        settings.put("max_parts", 5)


@pytest.fixture
def kannel(app, live_server, tmp_path):
    missing = kannel_peer.missing_binaries()
    if missing:
        pytest.fail(
            f"Kannel is needed for the peer tests ({', '.join(missing)} not found): "
            "`.ci/run` and `make test` install it as root (apt-get install kannel "
            "kannel-extras); it is not skipped on purpose."
        )
    mo_url = f"{live_server}/hooks/kannel/mo?secret={HOOKS_SECRET}&from=%p&to=%P&text=%a"
    peer = kannel_peer.Kannel(tmp_path, mo_url).start()
    app.config.update(
        SMS_GATEWAY="kannel",
        PUBLIC_URL=live_server,
        HOOKS_SECRET=HOOKS_SECRET,
        KANNEL_SENDSMS_URL=peer.sendsms_url,
        KANNEL_USERNAME=kannel_peer.USERNAME,
        KANNEL_PASSWORD=kannel_peer.PASSWORD,
        KANNEL_SMSC="FAKE",
    )
    # Thousands of delivery reports: one log line each would cost the server its speed.
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    try:
        yield peer
    finally:
        peer.stop()
        werkzeug_log.setLevel(level)


@pytest.fixture
def node_smsc(app):
    """node_smsc(throttle=2, enquire_every=2000, …) → a started tests/peers/nodesmsc.py
    SMSC, the app's gateway pointed at it (environment settings, as a deployment's).
    Not skipped when node or its package is missing: `make peers` installs them."""
    from shopsms.gateways.smpp import close_transmitters
    from tests.peers.nodesmsc import NodeSmsc, missing

    started = []

    def start(configure=True, **config):
        why = missing()
        if why:
            pytest.fail(f"The SMPP test SMSC cannot run: {why}; it is not skipped on purpose.")
        peer = NodeSmsc(**config).start()
        started.append(peer)
        if not configure:  # the test sets Paramètres › Passerelle itself
            return peer
        app.config.update(
            SMS_GATEWAY="smpp",
            SMPP_HOST="127.0.0.1",
            SMPP_PORT=peer.port,
            SMPP_SYSTEM_ID=peer.config["system_id"],
            SMPP_PASSWORD=peer.config["password"],
        )
        return peer

    yield start
    close_transmitters()
    for peer in started:
        peer.stop()
