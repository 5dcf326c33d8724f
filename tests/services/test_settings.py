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
