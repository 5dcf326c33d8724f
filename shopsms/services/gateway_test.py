"""« Envoyer un SMS de test »: one SMS through the gateway in service, by the same
pipeline as any sending (draft, credits, claim, submit), run at once so that the
settings page can say what the gateway answered. Nothing goes to the workers' queue,
and a test the gateway did not take leaves nothing behind: its campaign is cancelled
and its credit comes back."""

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import formats
from ..access import Person
from ..extensions import db
from ..gateways import get_gateway
from ..models import Campaign, Message, utcnow
from ..sms import phones
from ..sms.said import N_, readable
from . import audit, campaigns, credits, reports, sending

TEST_TEXT = "Test ShopSMS : la passerelle d'envoi fonctionne."
# One message fits in one batch; a few more rounds cover a gateway answering in chunks.
MAX_ROUNDS = 5
# Why the test's message failed, kept on it as its French words, as every message's
# reason (formats.said says it in the reader's language).
NOT_TAKEN = N_("La passerelle n'a pas pris le SMS : %(error)s")
HELD = N_("l'envoi est retenu (heures d'envoi ou envoi différé)")
NO_ANSWER = N_("pas de réponse après plusieurs essais")
readable(NOT_TAKEN, HELD, NO_ANSWER)


@dataclass(frozen=True)
class TestResult:
    ok: bool
    gateway: str
    message: str
    campaign_id: int | None = None


def _queue(campaign: Campaign, user: Person) -> None:
    """campaigns.queue_now without the workers' queue: this request sends it itself."""
    credits.reserve(
        campaign.id, campaigns.cost(campaign.id), store_id=campaign.store_id, user_id=user.id
    )
    campaign.status = "queued"
    audit.record("campaign.queue", user=user, store_id=campaign.store_id, obj=campaign)
    db.session.commit()


def _abandon(campaign_id: int, why: str, user: Person) -> None:
    """The gateway did not take the SMS: the message failed, the campaign is cancelled and
    its credit refunded (campaigns.cancel settles once nothing is in flight)."""
    db.session.rollback()
    db.session.execute(
        update(Message)
        .where(Message.campaign_id == campaign_id, Message.state.in_(("pending", "submitting")))
        .values(
            state="failed", error=why[:200], done_at=utcnow(), submitted_at=None, claimed_by=None
        )
        .execution_options(synchronize_session=False)
    )
    try:
        campaigns.cancel(campaign_id, user_id=user.id)
    except campaigns.CampaignError:  # already finished by the pipeline itself
        db.session.commit()


def send(raw_phone: str, *, user: Person) -> TestResult:
    number = phones.sms_number(raw_phone, "")
    gateway = get_gateway()
    if not number:
        return TestResult(
            False,
            gateway.name,
            _l("Numéro de portable non reconnu : saisissez un mobile, par exemple 06 12 34 56 78."),
        )
    try:
        campaign = campaigns.draft(
            "single",
            body=TEST_TEXT,
            recipients=[campaigns.Recipient(phone=number)],
            store_id=user.store_id,
            user_id=user.id,
            name="SMS de test (Paramètres)",
        )
        campaign_id = campaign.id
        _queue(campaign, user)
    except (campaigns.CampaignError, credits.NotEnoughCredits) as error:
        db.session.rollback()
        return TestResult(False, gateway.name, str(error))
    try:
        for _round in range(MAX_ROUNDS):
            result = sending.send_next_batch(campaign_id, gateway=gateway)
            if result.done:
                break
            if result.held_until is not None:
                raise RuntimeError(result.reason or HELD)
        else:
            raise RuntimeError(NO_ANSWER)
    except Exception as error:  # the gateway's own failure is the answer we report
        # The gateways word their errors without secrets (see gateways/kannel.py _mask),
        # as sentences (N_) said here in the person's language.
        words = error.args[0] if len(error.args) == 1 and hasattr(error.args[0], "msgid") else error
        why = N_(NOT_TAKEN, error=words)
        _abandon(campaign_id, why, user)  # its French words, as every message's reason
        return TestResult(False, gateway.name, formats.said(why), campaign_id)
    message = db.session.scalars(select(Message).where(Message.campaign_id == campaign_id)).one()
    if message.state in ("submitted", "delivered", "submitting"):
        said = (
            _l("SMS accepté par la passerelle (référence %(ref)s).", ref=message.gateway_ref)
            if message.gateway_ref
            else _l("SMS accepté par la passerelle.")
        )
        return TestResult(True, gateway.name, said, campaign_id)
    if message.state == "skipped":  # the reports' French label, as their screens say it
        reason = gettext(reports.reason(message))
    elif message.error:
        reason = formats.said(message.error)
    else:
        reason = gettext(reports.STATE_TEXT.get(message.state, message.state))
    return TestResult(
        False, gateway.name, _l("SMS refusé : %(reason)s", reason=reason), campaign_id
    )
