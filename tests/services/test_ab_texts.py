"""A/B texts (issue 21): the split of a campaign's recipients between « Variante A » and
« Variante B » (exactly the share chosen, reproducible, the control group kept apart, no
client in both), each variant's exact cost, and each message frozen with its variant's
text and its variant."""

import pytest
from flask import current_app
from sqlalchemy import func, select

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import Campaign, Client, DraftRecipient, Message, Store, User
from shopsms.services import campaigns, credits, recipients, settings, variants
from shopsms.sms import phones
from shopsms.sms.cost import final_text
from tests.conftest import run_preparation


def _chain(count):
    """`count` clients in two stores, one in ten without consent; names of different
    lengths, so that the texts with <NOM> differ in parts."""
    shops = [Store(code=f"8{i:02d}", name=f"Magasin {i}", city="Pau") for i in range(2)]
    db.session.add_all(shops)
    db.session.flush()
    db.session.add_all(
        Client(
            number=f"C{i:07d}",
            last_name="NOM" + "X" * (i % 40),
            first_name="Ana",
            store_id=shops[i % 2].id,
            tel1=(tel := f"06 30 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}"),
            sms_number=phones.sms_number(tel, ""),
            sms_consent="accepted" if i % 10 else "refused",
        )
        for i in range(count)
    )
    admin = User(username="siege", full_name="Siège", role="admin")
    admin.set_password("x" * 12)
    db.session.add(admin)
    db.session.commit()
    return admin


def _rows(campaign_id):
    return db.session.execute(
        select(
            DraftRecipient.id,
            DraftRecipient.client_id,
            DraftRecipient.state,
            DraftRecipient.skip_reason,
            DraftRecipient.variant,
        ).where(DraftRecipient.campaign_id == campaign_id)
    ).all()


def _split(campaign_id):
    rows = _rows(campaign_id)
    a = {r.client_id for r in rows if r.state == "pending" and r.variant == "A"}
    b = {r.client_id for r in rows if r.state == "pending" and r.variant == "B"}
    return a, b, rows


def test_exactly_the_share_chosen_the_control_group_apart_no_client_in_both(ctx):
    admin = _chain(1000)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    a, b, rows = _split(campaign.id)
    assert not a and not b  # one text until asked
    recipients.set_split(admin, campaign.id, "30")
    a, b, rows = _split(campaign.id)
    pending = [r for r in rows if r.state == "pending"]
    assert len(pending) == 810  # 900 with consent, 90 held out
    assert len(b) == round(810 * 0.30) == 243 and len(a) == 567
    assert not a & b and len(a | b) == len(pending)
    # The control group and the exclusions have no variant.
    assert {r.variant for r in rows if r.state != "pending"} == {""}
    assert recipients.summary(campaign.id).variants == {"A": 567, "B": 243}
    # Reproducible: another share and back gives the same clients.
    recipients.set_split(admin, campaign.id, "50")
    assert len(_split(campaign.id)[1]) == 405
    recipients.set_split(admin, campaign.id, "30")
    assert _split(campaign.id)[1] == b
    # A new control share draws both again, among those texted now.
    recipients.set_control_share(admin, campaign.id, "20")
    a, b, rows = _split(campaign.id)
    assert (len(a), len(b)) == (504, 216)
    assert not {r.client_id for r in rows if r.skip_reason == "control"} & (a | b)
    # Back to one text: no variant left, « Variante B » forgotten.
    campaign = recipients.set_split(admin, campaign.id, None)
    assert not any(r.variant for r in _rows(campaign.id))
    assert campaign.split_b == 0 and campaign.body_b == ""
    assert recipients.summary(campaign.id).variants is None


def test_the_split_stays_exact_as_rows_leave_and_come_back(ctx):
    admin = _chain(300)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    recipients.set_split(admin, campaign.id, "50")
    _, b, rows = _split(campaign.id)
    in_b = [r.id for r in rows if r.variant == "B"][:3]
    for row_id in in_b:
        recipients.remove(admin, campaign.id, row_id)
        a, b, _ = _split(campaign.id)
        assert len(b) == variants.target(len(a) + len(b), 50)
    for row_id in in_b:
        recipients.restore(admin, campaign.id, row_id)
        a, b, _ = _split(campaign.id)
        assert len(b) == variants.target(len(a) + len(b), 50)
        assert not a & b
    assert len(a) + len(b) == 243  # 270 with consent, 27 held out


@pytest.mark.parametrize("typed", ["9", "91", "moitié", "\x00", "9" * 400, ""])
def test_a_share_out_of_bounds_is_refused_in_french(ctx, typed):
    admin = _chain(100)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    with pytest.raises(campaigns.CampaignError, match="Part de la variante B"):
        recipients.set_split(admin, campaign.id, typed)
    assert db.session.get(Campaign, campaign.id).split_b == 0


def test_each_message_has_its_variant_text_and_the_cost_is_their_parts(
    ctx, credits_available, redis_client
):
    admin = _chain(400)
    credits_available(10_000)
    settings.put("max_parts", 3)  # « Parties par message au plus »
    settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
    settings.put("sending_start", "00:00")
    settings.put("sending_end", "23:59")
    db.session.commit()
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    recipients.set_split(admin, campaign.id, "40")
    body_a = "Soldes -20 % ce week-end"
    body_b = "Bonjour <NOM>, nos soldes commencent : " + "-20 % sur tout le magasin. " * 4
    confirmed = recipients.split_cost(db.session.get(Campaign, campaign.id), body_a, body_b)
    a, b, _ = _split(campaign.id)
    assert [(v.variant, v.recipients) for v in confirmed.variants] == [("A", len(a)), ("B", len(b))]
    assert confirmed.variants[0].credits == len(a)  # one part each
    assert len(b) < confirmed.variants[1].credits < 3 * len(b)  # 1 or 2 parts, by the name

    recipients.send(admin, campaign.id, body_a, "BIJOUX", accept_next=True, body_b=body_b)
    status = run_preparation(current_app, campaign.id)
    db.session.rollback()
    assert status == "queued", db.session.get(Campaign, campaign.id).status_note
    campaign = db.session.get(Campaign, campaign.id)
    assert (campaign.body, campaign.body_b) == (body_a, body_b)
    assert credits._held(campaign.id) == confirmed.credits

    from shopsms.services.sending import send_next_batch

    for _ in range(100):  # a batch at a time, as the workers do
        if send_next_batch(campaign.id).done:
            break
    messages = db.session.execute(
        select(
            Message.client_id, Message.variant, Message.text, Message.parts, Message.state
        ).where(Message.campaign_id == campaign.id)
    ).all()
    sent = [m for m in messages if m.state != "skipped"]
    assert {m.client_id for m in sent if m.variant == "A"} == a
    assert {m.client_id for m in sent if m.variant == "B"} == b
    names = dict(db.session.execute(select(Client.id, Client.last_name)).all())
    for m in sent:
        body = body_b if m.variant == "B" else body_a
        expected = final_text(
            body,
            {"civility": "", "first_name": "Ana", "last_name": names[m.client_id], "store": ""},
            add_stop=True,
            short_code="36608",
        )
        assert m.text == expected
    for variant in ("A", "B"):
        parts = sum(m.parts for m in sent if m.variant == variant)
        assert parts == confirmed.variants["AB".index(variant)].credits
    assert sum(m.parts for m in sent) == confirmed.credits
    assert {m.variant for m in messages if m.state == "skipped"} == {""}


def test_variant_b_must_be_written_and_the_draft_keeps_both_texts(ctx, credits_available):
    admin = _chain(300)
    credits_available(1000)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    recipients.set_split(admin, campaign.id, "50", body="Texte A", body_b="")
    with pytest.raises(campaigns.CampaignError, match="variante B est vide"):
        recipients.send(admin, campaign.id, "Texte A", "BIJOUX", accept_next=True, body_b="  ")
    recipients.keep_typed(admin, campaign.id, "Texte A", "BIJOUX", "Texte B")
    # « Modifier les critères de sélection »: the new list keeps both texts and the split.
    again = recipients.draft_from_selection(admin, selection.Criteria(), replaces=campaign.id)
    assert (again.body, again.body_b, again.split_b) == ("Texte A", "Texte B", 50)
    a, b, _ = _split(again.id)
    assert len(b) == variants.target(len(a) + len(b), 50) and a and b


def test_campaign_counts_follow_each_variant(ctx, credits_available):
    admin = _chain(300)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    recipients.set_split(admin, campaign.id, "50")
    counts = variants.pending_counts(campaign.id)
    truth = dict(
        db.session.execute(
            select(DraftRecipient.variant, func.count())
            .where(DraftRecipient.campaign_id == campaign.id, DraftRecipient.state == "pending")
            .group_by(DraftRecipient.variant)
        ).all()
    )
    assert counts == {"": 0, **truth} and truth == {"A": 121, "B": 122}
    assert sum(campaigns.progress(campaign.id).values()) == 300


def test_the_test_sms_sends_both_texts(ctx, credits_available, redis_client):
    admin = _chain(300)
    credits_available(100)
    campaign = recipients.draft_from_selection(admin, selection.Criteria())
    recipients.set_split(admin, campaign.id, "50")
    recipients.send_test(
        admin, campaign.id, "06 99 88 77 66", "Texte A", "BIJOUX", body_b="Texte B"
    )
    tests = db.session.execute(
        select(Campaign.name, Message.text)
        .join(Message, Message.campaign_id == Campaign.id)
        .where(Campaign.kind == "single")
        .order_by(Campaign.id)
    ).all()
    assert [(name[-12:], text.split("\n")[0]) for name, text in tests] == [
        ("(variante A)", "Texte A"),
        ("(variante B)", "Texte B"),
    ]
