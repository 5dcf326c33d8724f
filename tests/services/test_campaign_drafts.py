"""A marketing draft built from a selection: its rows say who gets the message and why
the others do not; the list is corrected by hand; credits come back when a scheduled
campaign is called off; and no screen can slip in another store's client."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import func, select

from shopsms import selection
from shopsms.extensions import db
from shopsms.models import Client, DraftRecipient, Message, OptOut, Store, User
from shopsms.services import campaign_status, campaigns, credits, recipients, sending_hours
from tests.conftest import run_preparation, wait_until_another_waits_on_a_lock

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def other_store(app):
    store = Store(code="002", name="Bayonne", city="Bayonne")
    db.session.add(store)
    db.session.commit()
    return store.id


@pytest.fixture
def people(make_client, other_store):
    ids = {
        "ok": make_client(last_name="ARTOLA", tel1="06 11 00 00 01", postal_code="64200"),
        "twin": make_client(last_name="BERGARA", tel1="06 11 00 00 01", postal_code="64600"),
        "landline": make_client(last_name="CHABAGNO", tel1="05 59 00 00 03", postal_code="64100"),
        "refused": make_client(
            last_name="DUHALDE", tel1="06 11 00 00 04", sms_consent="refused", postal_code="64500"
        ),
        "stop": make_client(last_name="ETCHE", tel1="06 11 00 00 05", postal_code="64210"),
        "nothing": make_client(
            last_name="FABRE", tel1="06 11 00 00 06", sms_refuses_all=True, postal_code="64000"
        ),
        "bayonne": make_client(
            last_name="GARAT", tel1="06 11 00 00 07", postal_code="64100", store_id=other_store
        ),
    }
    db.session.add(OptOut(phone="+33611000005"))
    db.session.commit()
    return ids


def user(users, role):
    return db.session.get(User, users[role].id)


def reasons(campaign_id):
    """Each client's state or skip reason: in the recipient list until the campaign
    starts, then in its messages."""
    out = {}
    for table in (DraftRecipient, Message):
        rows = db.session.execute(
            select(Client.last_name, table.state, table.skip_reason)
            .join(Client, Client.id == table.client_id)
            .where(table.campaign_id == campaign_id)
        )
        out.update({name: reason or state for name, state, reason in rows})
    return out


def test_a_draft_freezes_who_gets_it_and_why_not(users, people):
    staff = user(users, "staff")
    criteria = selection.Criteria(postal_code="64")
    campaign = recipients.draft_from_selection(staff, criteria)
    assert campaign.status == "draft" and campaign.kind == "marketing"
    # Staff select their own store's clients only: GARAT of Bayonne is not there.
    assert reasons(campaign.id) == {
        "ARTOLA": "pending",
        "BERGARA": "duplicate",
        "CHABAGNO": "no_mobile",
        "DUHALDE": "no_consent",
        "ETCHE": "optout",
        "FABRE": "refuses_all",
    }
    assert campaign.recipients_count == 6  # every row, as campaigns.draft counts
    assert recipients.summary(campaign.id).recipients == 1
    # The live count said the same before the draft.
    count = selection.count(criteria, db.session, store_id=staff.store_id)
    assert count.reachable == 1
    assert count.excluded == {
        "refuses_all": 1,
        "no_mobile": 1,
        "no_consent": 1,
        "optout": 1,
        "duplicate": 1,
    }

    head_office = recipients.draft_from_selection(user(users, "admin"), criteria)
    assert reasons(head_office.id)["GARAT"] == "pending"


def test_the_list_is_corrected_by_hand(users, people):
    staff = user(users, "staff")
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    rows = {
        name: message_id
        for name, message_id in db.session.execute(
            select(Client.last_name, DraftRecipient.id)
            .join(Client, Client.id == DraftRecipient.client_id)
            .where(DraftRecipient.campaign_id == campaign.id)
        )
    }
    with pytest.raises(campaigns.CampaignError, match="portable"):
        recipients.correct_phone(staff, campaign.id, rows["CHABAGNO"], "05 59 00 00 09")
    recipients.correct_phone(staff, campaign.id, rows["CHABAGNO"], "07 81 23 45 67")
    assert reasons(campaign.id)["CHABAGNO"] == "pending"
    card = db.session.get(Client, people["landline"])
    assert card.tel1 == "05 59 00 00 03"  # the card changes only when asked
    # The twin's number given a new one: it is no longer a duplicate; on the card too.
    recipients.correct_phone(staff, campaign.id, rows["BERGARA"], "0781234568", update_card=True)
    db.session.expire_all()
    assert reasons(campaign.id)["BERGARA"] == "pending"
    card = db.session.get(Client, people["twin"])
    assert card.tel1 == "07 81 23 45 68" and card.sms_number == "+33781234568"
    # The same number as another recipient: a duplicate, not a second SMS.
    recipients.correct_phone(staff, campaign.id, rows["BERGARA"], "06 11 00 00 01")
    assert reasons(campaign.id)["BERGARA"] == "duplicate"

    recipients.remove(staff, campaign.id, rows["ARTOLA"])
    assert reasons(campaign.id)["ARTOLA"] == "removed"
    assert recipients.summary(campaign.id).recipients == 1
    recipients.restore(staff, campaign.id, rows["ARTOLA"])
    assert reasons(campaign.id)["ARTOLA"] == "pending"
    with pytest.raises(campaigns.CampaignError, match="STOP"):
        recipients.restore(staff, campaign.id, rows["ETCHE"])
    assert recipients.summary(campaign.id).recipients == 2


Campaign_ = campaigns.Campaign


def test_compose_renders_every_text_and_the_cost_is_exact(users, people, credits_available):
    credits_available(50)
    staff = user(users, "staff")
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    with pytest.raises(campaigns.CampaignError, match="Intitulé"):
        recipients.compose(staff, campaign.id, "Bonjour <NOM>", "06 12 34 56 78")
    db.session.rollback()
    recipients.compose(staff, campaign.id, "Bonjour <NOM>, soldes !", "BIJOUX64")
    texts = set(
        db.session.scalars(
            select(DraftRecipient.text).where(
                DraftRecipient.campaign_id == campaign.id, DraftRecipient.state == "pending"
            )
        )
    )
    assert texts == {"Bonjour Mme Sabine ARTOLA, soldes !\nSTOP 36608"}
    assert campaigns.cost(campaign.id) == 1
    assert db.session.get(Campaign_, campaign.id).sender_id == "BIJOUX64"


def test_a_scheduled_campaign_called_off_gives_its_credits_back(
    users, people, credits_available, redis_client
):
    credits_available(50)
    staff = user(users, "staff")
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    recipients.compose(staff, campaign.id, "Soldes !", "BIJOUX64")
    now = datetime(2030, 11, 26, 9, 0)  # a Tuesday, 10:00 in Paris: within sending hours
    campaigns.schedule(campaign.id, now + timedelta(days=1), user_id=staff.id, now=now)
    assert credits.balance() == 49
    campaigns.unschedule(campaign.id, user_id=staff.id)
    assert credits.balance() == 50
    assert db.session.get(Campaign_, campaign.id).status == "draft"
    # Scheduled again then sent: the settlement charges once.
    from shopsms.services import sending

    campaigns.queue_now(campaign.id, user_id=staff.id, now=now)
    assert credits.balance() == 49
    for _ in range(5):
        if sending.send_next_batch(campaign.id, now=now).done:
            break
    assert db.session.get(Campaign_, campaign.id).status == "sent"
    assert credits.balance() == 49
    # The list became the campaign's messages once, each client once, with its text.
    assert not db.session.scalars(
        select(DraftRecipient.id).where(DraftRecipient.campaign_id == campaign.id)
    ).all()
    sent = db.session.execute(
        select(Message.client_id, Message.state, Message.text).where(
            Message.campaign_id == campaign.id
        )
    ).all()
    assert len(sent) == len({row.client_id for row in sent}) == 6
    assert [row.text for row in sent if row.state == "submitted"] == ["Soldes !\nSTOP 36608"]
    assert reasons(campaign.id)["BERGARA"] == "duplicate"  # the report tells why not


def test_no_screen_can_text_another_stores_client(users, people):
    staff = user(users, "staff")
    with pytest.raises(campaigns.CampaignError, match="n'est pas un client de votre magasin"):
        campaigns.draft(
            "single",
            body="Bonjour",
            user_id=staff.id,
            recipients=[campaigns.Recipient(client_id=people["bayonne"])],
        )
    head_office = user(users, "admin")
    bayonne = [campaigns.Recipient(client_id=people["bayonne"])]
    campaign = campaigns.draft("single", body="Bonjour", user_id=head_office.id, recipients=bayonne)
    assert campaign.recipients_count == 1
    other = recipients.draft_from_selection(head_office, selection.Criteria(postal_code="64"))
    with pytest.raises(campaigns.CampaignError, match="pas de votre magasin"):
        recipients.get(SimpleNamespace(has_role=lambda r: False, store_id=-1), other.id)


# Cards whose shapes (sms.cost.shape) are alike or nearly: accents, lower-case ç and
# capital È that proper case turns over, an emoji, a two-septet €, an empty first name.
CARDS = [
    ("Madame", "Sabine", "ARTOLA"),
    ("Monsieur", "Jean-Baptiste", "DE LA FONTAINE-DUVAL"),
    ("Madame", "Sabine", "ARTOLA"),
    ("", "Françoise", "ÉTCHEGARAY"),
    ("Monsieur", "", "Li"),
    ("Mme", "FRANÇOISE", "LÈBRE"),
    ("M.", "Zoé 🌸", "O'NEIL"),
    ("Mlle", "Inès", "ÈVE [€]"),
    ("M", "Marc", "DUPONT"),
    ("M", "Luc", "MARTIN"),
    ("Madame", "Sabine", "ETCHE"),
]
BODIES = [
    "Soldes !",
    "Bonjour <NOM>, soldes !",
    "<GEN> <NOMPROPRE>, à <MAGASIN> : -20 % " * 3,
    "Bonjour <PRENOM> ç",
    "x" * 120 + " <PRENOM> <NOM>",
    "<CIV> <NOM> " + "y" * 140 + "<PRENOM>",
]


def _draft_of_cards(users, make_client):
    for n, (civility, first, last) in enumerate(CARDS):
        make_client(
            civility=civility, first_name=first, last_name=last, tel1=f"06 11 22 33 {n:02d}"
        )
    return recipients.draft_from_selection(user(users, "staff"), selection.Criteria())


def _same_cost_as_one_by_one(campaign_id, body, gsm_names=False):
    """The composer's cost of the draft (its groups) is that of its pending clients read
    one by one, warnings and the text shown included."""
    from shopsms.services import costing

    ids = list(db.session.scalars(recipients.pending_client_ids(campaign_id)))
    grouped = costing.preview(body, add_stop=True, campaign_id=campaign_id, gsm_names=gsm_names)
    one_by_one = costing.preview(body, add_stop=True, client_ids=ids, gsm_names=gsm_names)
    selected = costing.preview(
        body,
        add_stop=True,
        gsm_names=gsm_names,
        client_ids=recipients.pending_client_ids(campaign_id),
    )
    assert grouped.cost.estimate == one_by_one.cost.estimate == selected.cost.estimate, body
    assert grouped.text == one_by_one.text
    assert grouped.gsm_parts == one_by_one.gsm_parts
    assert (grouped.card_ucs2, grouped.names_gsm_credits) == (
        selected.card_ucs2,
        selected.names_gsm_credits,
    )

    # The same recipients warned about, with the same figures (a group may gather
    # cards of the same shape that the Select's reading lists apart).
    def warned(preview):
        out = {}
        for c in preview.card_ucs2_list + preview.over_list:
            key = (c.units, c.over_by, c.chars)
            out[key] = out.get(key, 0) + 1 + c.others
        return out

    assert warned(grouped) == warned(selected)
    named = {c.client_id for c in grouped.card_ucs2_list + grouped.over_list}
    assert named <= set(ids)  # whoever a warning names is on the list
    return grouped


@pytest.mark.parametrize("body", BODIES)
def test_the_composer_costs_a_draft_as_it_costs_its_clients_one_by_one(users, make_client, body):
    campaign = _draft_of_cards(users, make_client)
    _same_cost_as_one_by_one(campaign.id, body)
    _same_cost_as_one_by_one(campaign.id, body, gsm_names=True)


def test_the_drafts_groups_follow_every_change_of_its_list(users, make_client):
    """The groups the composer counts on are kept by the database: after each hand edit
    (removed, restored, a number corrected into a duplicate and back, a control group
    drawn, the texts frozen) the cost is still that of the list read one by one."""
    from shopsms.models import DraftGroup

    campaign = _draft_of_cards(users, make_client)
    staff = user(users, "staff")
    body = BODIES[-1]
    rows = dict(
        db.session.execute(
            select(DraftRecipient.client_id, DraftRecipient.id)
            .where(DraftRecipient.campaign_id == campaign.id)
            .order_by(DraftRecipient.client_id)
        ).all()
    )
    first, *others = rows.values()
    full = _same_cost_as_one_by_one(campaign.id, body).cost.estimate.recipients
    recipients.remove(staff, campaign.id, first)
    after = _same_cost_as_one_by_one(campaign.id, body)
    assert after.cost.estimate.recipients == full - 1
    recipients.remove(staff, campaign.id, others[6])  # the emoji's group was its alone
    _same_cost_as_one_by_one(campaign.id, body)
    recipients.restore(staff, campaign.id, first)
    assert _same_cost_as_one_by_one(campaign.id, body).cost.estimate.recipients == full - 1
    twin = db.session.get(DraftRecipient, others[0]).phone
    recipients.correct_phone(staff, campaign.id, others[1], twin)  # now a duplicate
    _same_cost_as_one_by_one(campaign.id, body)
    recipients.correct_phone(staff, campaign.id, others[1], "06 99 00 00 01")
    _same_cost_as_one_by_one(campaign.id, body)
    recipients.set_control_share(staff, campaign.id, "20")
    _same_cost_as_one_by_one(campaign.id, body)
    recipients.compose(staff, campaign.id, "Bonjour <NOM>", "BIJOUX64")
    _same_cost_as_one_by_one(campaign.id, body)
    counted = db.session.scalar(
        select(func.sum(DraftGroup.recipients)).where(DraftGroup.campaign_id == campaign.id)
    )
    assert counted == recipients.summary(campaign.id).recipients
    recipients.quit_draft(staff, campaign.id)
    assert not db.session.scalar(
        select(func.count(DraftGroup.id)).where(DraftGroup.campaign_id == campaign.id)
    )


# --- money and double sends ----------------------------------------------------------


def ledger():
    from shopsms.models import CreditEntry

    return sorted(db.session.execute(select(CreditEntry.kind, CreditEntry.amount)).all())


def composed(staff, criteria=None):
    campaign = recipients.draft_from_selection(
        staff, criteria or selection.Criteria(postal_code="64")
    )
    recipients.compose(staff, campaign.id, "Soldes !", "BIJOUX64")
    return campaign


NOW = datetime(2030, 11, 26, 9, 0)  # a Tuesday, 10:00 in Paris: within sending hours


def test_calling_off_twice_gives_the_credits_back_once(
    users, people, credits_available, redis_client
):
    credits_available(50)
    staff = user(users, "staff")
    campaign = composed(staff)
    campaigns.schedule(campaign.id, NOW + timedelta(days=1), user_id=staff.id, now=NOW)
    recipients.unschedule(staff, campaign.id)
    after_first = credits.balance()
    assert after_first == 50
    with pytest.raises(campaigns.CampaignError):
        recipients.unschedule(staff, campaign.id)
    db.session.rollback()
    with pytest.raises(campaigns.CampaignError):  # even past the status check of the screen
        campaigns.unschedule(campaign.id, user_id=staff.id)
    db.session.rollback()
    assert credits.balance() == after_first
    # Written as what it is: credits given back, not a reservation of the opposite sign.
    assert ("release", 1) in ledger() and all(
        amount < 0 for kind, amount in ledger() if kind == "reservation"
    )
    from shopsms.models import AuditEntry

    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.unschedule")
    ).one()
    assert entry.user_id == staff.id


def test_a_second_send_click_neither_reserves_nor_sends_again(
    users, people, credits_available, redis_client
):
    credits_available(50)
    staff = user(users, "staff")
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    recipients.send(staff, campaign.id, "Soldes !", "BIJOUX64", now=NOW)
    assert db.session.get(Campaign_, campaign.id).status == "preparing"
    assert credits.balance() == 50  # reserved by the preparation, at its exact cost
    assert run_preparation(current_app, campaign.id) == "queued"
    assert credits.balance() == 49
    with pytest.raises(campaigns.CampaignError):
        recipients.send(staff, campaign.id, "Soldes !", "BIJOUX64", now=NOW)
    with pytest.raises(campaigns.CampaignError, match="déjà"):
        campaigns.queue_now(campaign.id, user_id=staff.id, now=NOW)
    with pytest.raises(campaigns.CampaignError):
        recipients.send(staff, campaign.id, "Soldes !", "BIJOUX64", now=NOW)
    with pytest.raises(campaigns.CampaignError, match="déjà"):
        campaigns.schedule(campaign.id, NOW + timedelta(days=1), user_id=staff.id, now=NOW)
    db.session.rollback()
    assert credits.balance() == 49


def test_the_worker_and_a_call_off_cannot_both_win(users, people, credits_available, redis_client):
    from shopsms.services import sending

    credits_available(50)
    staff = user(users, "staff")
    # Called off first: the worker's later start finds a draft and sends nothing.
    first = composed(staff)
    campaigns.schedule(first.id, NOW + timedelta(hours=1), user_id=staff.id, now=NOW)
    recipients.unschedule(staff, first.id)
    assert sending.send_next_batch(first.id, now=NOW + timedelta(hours=2)).done
    db.session.expire_all()
    assert db.session.get(Campaign_, first.id).status == "draft"
    states = set(db.session.scalars(select(Message.state).where(Message.campaign_id == first.id)))
    assert "submitted" not in states
    # The worker's start is itself conditional: it does not take a draft back.
    assert not campaign_status.claim_status(first.id, ("scheduled", "queued"), "sending")
    db.session.rollback()
    # Started first: calling off is refused and the ledger stays as the sending left it.
    second = composed(staff, selection.Criteria(postal_code="64", name="ART"))
    campaigns.schedule(second.id, NOW + timedelta(hours=1), user_id=staff.id, now=NOW)
    sending.send_next_batch(second.id, now=NOW + timedelta(hours=2))
    before = credits.balance()
    with pytest.raises(campaigns.CampaignError):
        recipients.unschedule(staff, second.id)
    db.session.rollback()
    assert credits.balance() == before


def test_a_scheduled_campaign_can_be_cancelled_for_good(
    users, people, credits_available, redis_client
):
    credits_available(50)
    staff = user(users, "staff")
    campaign = composed(staff)
    campaigns.schedule(campaign.id, NOW + timedelta(days=1), user_id=staff.id, now=NOW)
    recipients.cancel(staff, campaign.id)
    db.session.expire_all()
    assert db.session.get(Campaign_, campaign.id).status == "cancelled"
    assert credits.balance() == 50
    # Its report lists everyone: the one it would have texted as cancelled.
    assert reasons(campaign.id)["ARTOLA"] == "cancelled"
    assert reasons(campaign.id)["ETCHE"] == "optout"
    assert campaigns.progress(campaign.id)["skipped"] == 6


def test_a_time_the_clocks_skip_or_repeat_is_refused():
    with pytest.raises(campaigns.CampaignError, match="changement d'heure"):
        sending_hours.to_utc(datetime(2030, 3, 31, 2, 30))  # spring forward: 02:00 → 03:00
    with pytest.raises(campaigns.CampaignError, match="changement d'heure"):
        sending_hours.to_utc(datetime(2030, 10, 27, 2, 30))  # autumn: 02:30 happens twice
    assert sending_hours.to_utc(datetime(2030, 6, 3, 10, 0)) == datetime(2030, 6, 3, 8, 0)


# --- the list by hand -----------------------------------------------------------------


def rows_by_name(campaign_id):
    return dict(
        db.session.execute(
            select(Client.last_name, DraftRecipient.id)
            .join(Client, Client.id == DraftRecipient.client_id)
            .where(DraftRecipient.campaign_id == campaign_id)
        ).all()
    )


def test_a_corrected_number_lets_its_duplicate_have_the_message(users, people):
    staff = user(users, "staff")
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    rows = rows_by_name(campaign.id)
    assert reasons(campaign.id)["BERGARA"] == "duplicate"
    recipients.correct_phone(staff, campaign.id, rows["ARTOLA"], "07 81 23 45 69")
    db.session.expire_all()
    assert reasons(campaign.id)["ARTOLA"] == "pending"
    assert reasons(campaign.id)["BERGARA"] == "pending"  # the number is free again
    assert recipients.summary(campaign.id).recipients == 2


def test_restoring_a_row_reads_the_cards_number_of_today(users, people):
    from shopsms.services.client_fields import phone_fields

    staff = user(users, "staff")
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    rows = rows_by_name(campaign.id)
    with pytest.raises(campaigns.CampaignError, match="portable"):
        recipients.restore(staff, campaign.id, rows["CHABAGNO"])
    card = db.session.get(Client, people["landline"])
    card.tel1 = "06 22 33 44 55"
    for name, value in phone_fields(card.tel1, card.tel2).items():
        setattr(card, name, value)
    db.session.commit()
    recipients.restore(staff, campaign.id, rows["CHABAGNO"])
    db.session.expire_all()
    assert reasons(campaign.id)["CHABAGNO"] == "pending"
    assert db.session.get(DraftRecipient, rows["CHABAGNO"]).phone == "+33622334455"


def test_forged_ids_are_refused(users, people, other_store):
    from shopsms.services.users import create_user

    staff = user(users, "staff")
    mine = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    other = recipients.draft_from_selection(staff, selection.Criteria(name="ARTOLA"))
    foreign_row = rows_by_name(other.id)["ARTOLA"]
    for action in (recipients.remove, recipients.restore):
        with pytest.raises(campaigns.CampaignError, match="pas dans cet envoi"):
            action(staff, mine.id, foreign_row)
    with pytest.raises(campaigns.CampaignError, match="pas dans cet envoi"):
        recipients.correct_phone(staff, mine.id, foreign_row, "06 22 33 44 55")
    db.session.rollback()
    bayonne = create_user("vendeur.bayonne2", "x" * 12, "staff", "002")
    with pytest.raises(campaigns.CampaignError, match="pas de votre magasin"):
        recipients.draft_from_selection(bayonne, selection.Criteria(), replaces=mine.id)
    db.session.rollback()
    assert db.session.get(Campaign_, mine.id) is not None


# --- drafts do not pile up ---------------------------------------------------------------


def test_building_the_same_selection_again_reuses_the_untouched_draft(users, people):
    staff = user(users, "staff")
    criteria = selection.Criteria(postal_code="64")
    recipients.draft_from_selection(staff, criteria)
    second = recipients.draft_from_selection(staff, criteria).id
    drafts = db.session.scalars(select(Campaign_.id).where(Campaign_.status == "draft")).all()
    assert drafts == [second]  # the first one went (SQLite may give its id again)
    # Touched (a text written): kept, and the next build is a new draft.
    recipients.compose(staff, second, "Soldes !", "BIJOUX64")
    third = recipients.draft_from_selection(staff, criteria).id
    assert set(db.session.scalars(select(Campaign_.id))) == {second, third}
    recipients.quit_draft(staff, third)
    assert db.session.get(Campaign_, third) is None
    for table in (DraftRecipient, Message):
        assert not db.session.scalars(select(table.id).where(table.campaign_id == third)).all()


def test_the_sweep_removes_drafts_left_for_a_week(users, people):
    staff = user(users, "staff")
    old = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64")).id
    db.session.get(Campaign_, old).created_at = datetime.now() - timedelta(days=8)
    recent = recipients.draft_from_selection(staff, selection.Criteria(name="ARTOLA")).id
    db.session.commit()
    assert recipients.delete_stale_drafts(days=7) == 1
    assert db.session.get(Campaign_, old) is None and db.session.get(Campaign_, recent)


def test_a_test_sms_is_nobodys_and_limited(users, people, credits_available, redis_client):
    credits_available(50)
    staff = user(users, "staff")
    campaign = recipients.draft_from_selection(staff, selection.Criteria(postal_code="64"))
    with pytest.raises(campaigns.CampaignError, match="portable"):
        recipients.send_test(staff, campaign.id, "05 59 00 00 00", "Bonjour <NOM>", "BIJOUX64")
    for _ in range(recipients.TEST_SMS_PER_HOUR):
        recipients.send_test(staff, campaign.id, "06 99 88 77 66", "Bonjour <NOM>", "BIJOUX64")
    with pytest.raises(campaigns.CampaignError, match="plus tard"):
        recipients.send_test(staff, campaign.id, "06 99 88 77 66", "Bonjour <NOM>", "BIJOUX64")
    tests = db.session.execute(
        select(Message.client_id, Message.text)
        .join(Campaign_, Campaign_.id == Message.campaign_id)
        .where(Campaign_.kind == "single")
    ).all()
    assert len(tests) == recipients.TEST_SMS_PER_HOUR
    # Worded for the first recipient, filed under no client (not in ARTOLA's history).
    assert {row.client_id for row in tests} == {None}
    assert tests[0].text.startswith("Bonjour Mme Sabine ARTOLA")


def test_two_call_offs_at_once_release_once_on_postgresql(
    app, users, people, credits_available, redis_client
):
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the race needs PostgreSQL")
    credits_available(50)
    staff = user(users, "staff")
    campaign = composed(staff)
    campaigns.schedule(campaign.id, NOW + timedelta(days=1), user_id=staff.id, now=NOW)
    start, outcomes = threading.Barrier(2), []

    def call_off():
        with app.app_context():
            try:
                start.wait()
                campaigns.unschedule(campaign.id, user_id=staff.id)
                outcomes.append("released")
            except campaigns.CampaignError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=call_off) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["refused", "released"]
    db.session.expire_all()
    assert credits.balance() == 50


def test_a_scheduled_campaigns_report_lists_who_will_get_it(
    users, people, credits_available, redis_client
):
    from shopsms.services import report_export, reports

    credits_available(50)
    staff = user(users, "staff")
    campaign = composed(staff)
    campaigns.schedule(campaign.id, NOW + timedelta(days=1), user_id=staff.id, now=NOW)
    page = reports.messages(campaign.id)
    assert page.total == 6
    names = {row.last_name: row.Message.state for row in page.rows}
    assert names["ARTOLA"] == "pending" and names["ETCHE"] == "skipped"
    waiting = reports.messages(campaign.id, state="pending").rows
    assert [row.Message.text for row in waiting] == ["Soldes !\nSTOP 36608"]
    exported = list(report_export.export_rows(campaign.id))
    assert len(exported) == 6 and any("Soldes" in line[3] for line in exported)


def test_the_list_cannot_change_once_sent(users, people, credits_available, redis_client):
    credits_available(50)
    staff = user(users, "staff")
    campaign = composed(staff)
    row = rows_by_name(campaign.id)["ETCHE"]  # skipped: STOP
    artola = rows_by_name(campaign.id)["ARTOLA"]
    campaigns.schedule(campaign.id, NOW + timedelta(days=1), user_id=staff.id, now=NOW)
    reserved = credits.balance()
    # An old tab on the draft: nothing it does may add a recipient nobody paid for.
    for change in (
        lambda: recipients.restore(staff, campaign.id, row),
        lambda: recipients.remove(staff, campaign.id, artola),
        lambda: recipients.correct_phone(staff, campaign.id, artola, "06 99 88 77 66"),
        lambda: recipients.compose(staff, campaign.id, "Autre texte", "BIJOUX64"),
    ):
        with pytest.raises(campaigns.CampaignError):
            change()
        db.session.rollback()
    assert recipients.summary(campaign.id).recipients == 1
    assert campaigns.cost(campaign.id) == 50 - reserved


def test_a_change_to_the_list_waits_for_a_compose_in_progress_on_postgresql(app, users, people):
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the race needs PostgreSQL")
    staff = user(users, "staff")
    campaign = composed(staff)
    artola = rows_by_name(campaign.id)["ARTOLA"]
    started, outcome = threading.Event(), []

    def remove_meanwhile():
        with app.app_context():
            try:
                started.wait()
                recipients.remove(user(users, "staff"), campaign.id, artola)
                outcome.append("removed")
            except Exception as error:  # what the person would get: an error page
                outcome.append(type(error).__name__)
            finally:
                db.session.remove()

    thread = threading.Thread(target=remove_meanwhile)
    thread.start()
    # A compose (or « Envoyer ») in progress here: the rows are being written again.
    recipients.compose(staff, campaign.id, "Nouveau texte", "BIJOUX64", commit=False)
    started.set()
    # The other tab must be seen waiting on the draft's lock, not merely run later.
    wait_until_another_waits_on_a_lock(outcome, "the change during the compose")
    db.session.commit()
    thread.join(30)
    assert outcome == ["removed"]
    db.session.expire_all()
    assert reasons(campaign.id)["ARTOLA"] == "removed"
