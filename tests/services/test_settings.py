import pytest

from shopsms.extensions import db
from shopsms.models import AuditEntry
from shopsms.services import settings

pytestmark = pytest.mark.usefixtures("ctx")


def test_defaults_work_without_any_configuration():
    assert settings.get("stop_short_code") == "36608"
    assert settings.get("max_parts") == 1


def test_a_store_overrides_the_chain_which_overrides_the_default(store):
    settings.put("sender_id", "BIJOUX")
    assert settings.get("sender_id", store_id=store.id) == "BIJOUX"
    settings.put("sender_id", "BIARRITZ", store_id=store.id)
    assert settings.get("sender_id", store_id=store.id) == "BIARRITZ"
    assert settings.get("sender_id") == "BIJOUX"


def test_changes_are_audited_and_secrets_are_not_written_down():
    settings.put("max_parts", 2)
    settings.put("topup_email", "compta@example.fr", secret=True)
    entries = db.session.query(AuditEntry).order_by(AuditEntry.id).all()
    assert entries[0].details == {"key": "max_parts", "old": 1, "new": 2}
    assert entries[1].details == {"key": "topup_email"}
    assert "compta@example.fr" not in str([e.details for e in entries])


def test_unknown_keys_are_refused():
    with pytest.raises(KeyError):
        settings.get("nope")


def test_form_values_are_checked_with_the_sms_rules():
    assert settings.clean("sender_id", "BIJOUX_64") == ("BIJOUX_64", "")
    value, error = settings.clean("sender_id", "0612345678")
    assert value is None and error
    assert settings.clean("stop_short_code", "38100") == ("38100", "")
    assert settings.clean("stop_short_code", "STOP")[1].startswith("Numéro court STOP")
    assert (
        settings.clean("max_parts", "11")[1]
        == "Parties par message : saisissez un nombre de 1 à 10."
    )
    assert settings.clean("sending_days", ["5", "0", "5"]) == ([0, 5], "")
    assert settings.clean("sending_days", [])[1]
    assert settings.check_window("20:00", "08:00")


def test_gateway_settings_apply_over_the_configuration_only_when_set(app):
    config = {"SMS_GATEWAY": "outbox", "KANNEL_PASSWORD": "from-env", "KANNEL_USERNAME": "env"}
    assert settings.gateway_config(config) == config
    settings.put("gateway", "kannel")
    settings.put("kannel_password", "from-settings")
    merged = settings.gateway_config(config)
    assert merged["SMS_GATEWAY"] == "kannel" and merged["KANNEL_PASSWORD"] == "from-settings"
    assert merged["KANNEL_USERNAME"] == "env"
    log = [e.details for e in db.session.query(AuditEntry)]
    assert {"key": "kannel_password"} in log and "from-settings" not in str(log)


def test_sms_module_switch_is_audited(store):
    assert settings.sms_enabled(store.id) and settings.sms_enabled(None)
    assert settings.set_sms_enabled(store.id, False)
    assert not settings.sms_enabled(store.id)
    assert not settings.set_sms_enabled(store.id, False)  # no change, no entry
    assert db.session.query(AuditEntry).filter_by(action="store.sms_enabled").count() == 1


def test_platform_link_off_refuses_every_sending(store):
    from shopsms.services import campaigns

    assert settings.sms_enabled(store.id) is True
    settings.put("platform_link", False)
    for store_id in (store.id, None):
        with pytest.raises(campaigns.CampaignError, match="plate-forme de services est coupée"):
            settings.sms_enabled(store_id)
    settings.put("platform_link", True)  # outside a request, read afresh: no stale value
    assert settings.sms_enabled(None) is True
