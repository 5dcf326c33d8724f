"""One rule for "too long", whatever the sending: a single SMS from the client card, a
marketing campaign, a repair SMS and the CLI refuse a text over « Parties par message au
plus » before anything is written or charged, in the very words of the composer's
counter. And a campaign can write its clients' names in GSM-7 for the SMS only."""

import pytest
from flask import current_app
from sqlalchemy import func, select

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import (
    Campaign,
    Client,
    CreditEntry,
    DraftRecipient,
    Message,
    RepairTicket,
    User,
)
from shopsms.services import campaigns, clients, costing, credits, recipients, repair_notices
from tests.conftest import run_preparation

pytestmark = pytest.mark.usefixtures("ctx")

TOO_LONG_1 = (
    "Message trop long de 1 caractère : 160 caractères au plus (1 SMS). "
    "Raccourcissez le texte ou retirez des expressions génériques."
)


def nothing_written():
    return (
        db.session.scalar(select(func.count(Campaign.id))),
        db.session.scalar(select(func.count(Message.id))),
        credits.balance(),
    )


def test_a_single_sms_of_161_characters_is_refused_as_the_counter_says(
    users, make_client, credits_available, redis_client
):
    credits_available(10)
    client_id = make_client(tel1="06 24 06 13 93")
    staff = db.session.get(User, users["staff"].id)
    before = nothing_written()
    counter = costing.preview("a" * 161, add_stop=False, client_ids=[client_id])
    assert counter.too_long == TOO_LONG_1
    with pytest.raises(campaigns.CampaignError) as refused:
        clients.send_single(staff, client_id, "a" * 161, once=None)
    assert str(refused.value) == TOO_LONG_1
    db.session.rollback()
    assert nothing_written() == before == (0, 0, 10)
    # 160 goes, as one part
    clients.send_single(staff, client_id, "a" * 160, once=None)
    assert db.session.scalar(select(Message.parts)) == 1


def test_with_stop_a_single_sms_holds_149_characters(users, make_client, credits_available):
    credits_available(10)
    client_id = make_client(tel1="06 24 06 13 93")
    staff = db.session.get(User, users["staff"].id)
    with pytest.raises(campaigns.CampaignError) as refused:
        clients.send_single(staff, client_id, "a" * 150, add_stop=True, once=None)
    assert str(refused.value).startswith(
        "Message trop long de 1 caractère : 149 caractères au plus avec la mention STOP (1 SMS)."
    )
    assert str(refused.value) == costing.preview("a" * 150, add_stop=True).too_long


def test_the_cli_refuses_it_too(app, users, make_client, credits_available):
    credits_available(10)
    make_client(number="0000001", tel1="06 24 06 13 93")
    result = app.test_cli_runner().invoke(
        args=["sms", "send", "--client", "0000001", "--text", "ê" * 71]
    )
    assert result.exit_code != 0
    assert "Message trop long de 1 caractère : 70 caractères au plus (1 SMS)." in result.output
    assert nothing_written() == (0, 0, 10)


def test_a_repair_sms_over_the_limit_is_refused_in_the_same_words(
    users, make_client, store, credits_available
):
    credits_available(10)
    ticket = RepairTicket(
        number="500347",
        client_id=make_client(tel1="06 24 06 13 93"),
        store_id=store.id,
        item_description="Montre",
    )
    db.session.add(ticket)
    db.session.commit()
    with pytest.raises(campaigns.CampaignError) as refused:
        repair_notices.notify([ticket.id], "Fiche <NUM> " + "a" * 150, user_id=users["staff"].id)
    assert str(refused.value) == (
        "Message trop long de 3 caractères : 160 caractères au plus (1 SMS). "
        "Raccourcissez le texte ou retirez des expressions génériques."
    )
    assert nothing_written() == (0, 0, 10)


def test_a_campaign_with_texts_over_the_limit_is_not_sent(
    users, make_client, credits_available, redis_client
):
    credits_available(50)
    make_client(last_name="DUPONT", tel1="06 11 00 00 01", postal_code="64200")
    make_client(last_name="DE LA FONTAINE-BEAUMARCHAIS", tel1="06 11 00 00 02", postal_code="64200")
    staff = db.session.get(User, users["staff"].id)
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    body = "x" * 120 + " <NOM>"
    counter = costing.preview(
        body, add_stop=True, client_ids=recipients.pending_client_ids(campaign.id)
    )
    # « Envoyer » answers at once; its preparation, which renders every text, refuses it
    # and the draft page says why (the campaign's note).
    recipients.send(staff, campaign.id, body, "BIJOUX64", accept_next=True)
    assert run_preparation(current_app, campaign.id) == "draft"
    db.session.rollback()  # see what the job committed
    assert (
        db.session.get(Campaign, campaign.id).status_note
        == counter.too_long
        == (
            "1 destinataire a un texte trop long : 10 caractères de trop pour 1 SMS. "
            "Raccourcissez le texte ou retirez des expressions génériques."
        )
    )
    assert db.session.get(Campaign, campaign.id).status == "draft"
    assert credits.balance() == 50
    assert not db.session.scalar(
        select(func.count(CreditEntry.id)).where(CreditEntry.kind != "topup")
    )


def test_names_written_in_gsm_for_this_sms_only(
    users, make_client, credits_available, redis_client
):
    credits_available(50)
    francoise = make_client(
        first_name="FRANÇOISE", last_name="ARTOLA", tel1="06 11 00 00 01", postal_code="64200"
    )
    make_client(first_name="MARC", last_name="BERGARA", tel1="06 11 00 00 02", postal_code="64200")
    staff = db.session.get(User, users["staff"].id)
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    body = "Bonjour <PRENOM>, " + "nos soldes commencent samedi en magasin. " * 2
    ids = recipients.pending_client_ids(campaign.id)
    before = costing.preview(body, add_stop=True, client_ids=ids)
    assert (before.cost.credits, before.cost.estimate.ucs2) == (3, 1)

    recipients.set_gsm_names(staff, campaign.id, True)
    after = costing.preview(body, add_stop=True, client_ids=ids, gsm_names=True)
    assert (after.cost.credits, after.cost.estimate.ucs2) == (2, 0)
    assert before.names_gsm_credits == after.cost.credits  # the button's promise is kept
    assert [c.name for c in before.card_ucs2_list] == ["ARTOLA FRANÇOISE"]
    assert before.card_ucs2_list[0].chars == ("ç",)
    recipients.send(staff, campaign.id, body, "BIJOUX64", accept_next=True)
    assert run_preparation(current_app, campaign.id) == "queued"
    texts = dict(
        db.session.execute(
            select(DraftRecipient.client_id, DraftRecipient.text).where(
                DraftRecipient.campaign_id == campaign.id
            )
        ).all()
        or db.session.execute(
            select(Message.client_id, Message.text).where(Message.campaign_id == campaign.id)
        ).all()
    )
    assert texts[francoise].startswith("Bonjour Francoise, nos soldes")
    assert campaigns.cost(campaign.id) == 2
    assert db.session.get(Client, francoise).first_name == "FRANÇOISE"  # the card untouched
