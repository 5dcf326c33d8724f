"""Repair tickets: search, workshop return, and the SMS that tell clients their repair is
ready, each with its own ticket number and amount."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Message, RepairTicket, Store, User, Workshop, utcnow
from shopsms.services import credits, repair_notices, repairs, settings
from shopsms.services.sending import send_next_batch


@pytest.fixture
def ticket(app, store):
    """ticket(client_id, number, **fields) → ticket id."""

    def make(client_id, number, **fields):
        with app.app_context():
            row = RepairTicket(
                number=number,
                client_id=client_id,
                store_id=store.id,
                item_description="Montre femme",
                **fields,
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    return make


def user(role, users):
    return db.session.get(User, users[role].id)


def test_each_client_gets_their_own_number_and_amount(
    ctx, make_client, ticket, credits_available, redis_client
):
    credits_available(10)
    vidal = make_client(civility="Monsieur", last_name="VIDAL", tel1="07 55 55 66 66")
    fontaine = make_client(civility="Madame", last_name="FONTAINE", tel1="07 81 01 02 02")
    first = ticket(vidal, "3156", client_price=Decimal("30.00"))
    second = ticket(fontaine, "3131", client_price=Decimal("35.00"), deposit=Decimal("5"))
    [campaign] = repair_notices.notify(
        [first, second], "Bonjour <GEN> <NOMPROPRE>, fiche <NUM> : <MONTANT>."
    )
    texts = dict(db.session.execute(select(Message.repair_ticket_id, Message.text)).all())
    assert texts == {
        first: "Bonjour Monsieur Vidal, fiche 3156 : 30,00 €.",
        second: "Bonjour Madame Fontaine, fiche 3131 : 30,00 €.",
    }
    assert campaign.kind == "repair" and campaign.status == "queued"
    for ticket_id in (first, second):
        row = db.session.get(RepairTicket, ticket_id)
        assert row.notified_by == "sms" and row.notified_at is not None
        assert db.session.get(Message, row.last_message_id).repair_ticket_id == ticket_id


def test_two_tickets_of_one_client_are_two_messages(
    ctx, make_client, ticket, credits_available, redis_client
):
    credits_available(10)
    client_id = make_client()
    ids = [ticket(client_id, "700"), ticket(client_id, "701")]
    repair_notices.notify(ids, "Fiche <NUM> disponible.")
    rows = db.session.execute(select(Message.text, Message.state).order_by(Message.id)).all()
    assert [tuple(r) for r in rows] == [
        ("Fiche 700 disponible.", "pending"),
        ("Fiche 701 disponible.", "pending"),
    ]


def test_repair_messages_reach_clients_who_refused_marketing_never_those_who_refuse_all(
    ctx, make_client, ticket, credits_available, redis_client
):
    credits_available(10)
    refused_marketing = make_client(sms_consent="refused")
    refuses_all = make_client(sms_refuses_all=True)
    no_mobile = make_client(tel1="05 59 00 00 00")
    ids = [ticket(refused_marketing, "1"), ticket(refuses_all, "2"), ticket(no_mobile, "3")]
    recap = repair_notices.recap(ids, "Fiche <NUM>")
    assert [line.target.number for line in recap.lines] == ["1"]
    assert {t.number: t.reason for t in recap.unreachable} == {
        "2": "refuses_all",
        "3": "no_mobile",
    }
    [campaign] = repair_notices.notify(ids, "Fiche <NUM>")
    assert campaign.recipients_count == 1
    # Consent is checked again at send time: a client who now refuses every SMS is skipped.
    from shopsms.models import Client

    db.session.get(Client, refused_marketing).sms_refuses_all = True
    db.session.commit()
    send_next_batch(campaign.id)
    message = db.session.scalar(select(Message))
    assert (message.state, message.skip_reason) == ("skipped", "refuses_all")


def test_a_repair_sms_is_not_held_by_marketing_hours(
    ctx, make_client, ticket, credits_available, redis_client
):
    credits_available(5)
    settings.put("sending_days", [])  # no marketing day at all
    [campaign] = repair_notices.notify([ticket(make_client(), "9")], "Fiche <NUM>")
    assert campaign.status == "queued" and campaign.not_before is None


def test_not_enough_credits_leaves_no_ticket_marked(ctx, make_client, ticket, redis_client):
    ticket_id = ticket(make_client(), "10")
    with pytest.raises(credits.NotEnoughCredits):
        repair_notices.notify([ticket_id], "Fiche <NUM>")
    row = db.session.get(RepairTicket, ticket_id)
    assert row.notified_by == "" and row.last_message_id is None
    assert db.session.scalar(select(Message)) is None  # checked before any draft


def test_workshop_return_makes_tickets_available_with_the_client_price(
    ctx, users, make_client, ticket
):
    workshop = Workshop(code="0307", name="Atelier Jérôme", default_coefficient=Decimal("2.5"))
    db.session.add(workshop)
    db.session.commit()
    client_id = make_client()
    a = ticket(client_id, "3156", status="at_workshop", workshop_id=workshop.id)
    b = ticket(client_id, "2639", status="at_workshop")
    staff = user("staff", users)
    done = repairs.record_return(
        staff,
        [
            repairs.ReturnLine(a, workshop_price=Decimal("12"), coefficient=Decimal("2.5")),
            repairs.ReturnLine(
                b,
                workshop_price=Decimal("28"),
                coefficient=Decimal("2.5"),
                client_price=Decimal("60"),
                workshop_comment="Mécanisme changé",
            ),
        ],
    )
    assert done == [a, b]
    first, second = db.session.get(RepairTicket, a), db.session.get(RepairTicket, b)
    assert (first.status, first.client_price, first.returned_on) == (
        "ready",
        Decimal("30.00"),
        date.today(),
    )
    assert (second.client_price, second.workshop_comment) == (Decimal("60.00"), "Mécanisme changé")


def test_staff_find_only_their_store_tickets(ctx, app, users, make_client, ticket):
    from shopsms.models import Store

    other = Store(code="002", name="Bayonne", city="Bayonne")
    db.session.add(other)
    db.session.commit()
    mine = ticket(make_client(), "100", status="ready")
    theirs = RepairTicket(number="200", client_id=make_client(), store_id=other.id, status="ready")
    db.session.add(theirs)
    db.session.commit()
    staff, admin = user("staff", users), user("admin", users)
    numbers = [r.RepairTicket.number for r in repairs.search(staff, repairs.Criteria()).rows]
    assert numbers == ["100"]
    assert repairs.get(staff, theirs.id) is None and repairs.get(staff, mine) is not None
    with pytest.raises(repairs.RepairError):
        repairs.find_for_return(staff, "200")
    assert len(repairs.search(admin, repairs.Criteria()).rows) == 2


def test_search_criteria_of_the_seed(ctx, users, make_client, ticket):
    with_mobile = make_client(number="C1", last_name="RUSSELLO")
    without = make_client(number="C2", last_name="ASLAN", tel1="")
    ticket(with_mobile, "519688", status="ready", client_price=Decimal("0"))
    ticket(without, "518187", status="ready", client_price=Decimal("35"), kind="warranty")
    ticket(with_mobile, "518165", status="open", client_price=Decimal("60"))
    ticket(with_mobile, "518100", status="ready", kind="quote")
    staff = user("staff", users)

    def numbers(**criteria):
        return sorted(
            r.RepairTicket.number for r in repairs.search(staff, repairs.Criteria(**criteria)).rows
        )

    assert numbers() == ["518187", "519688"]  # « Disponibles », repairs, not quotes
    assert numbers(quotes=True) == ["518100", "518187", "519688"]
    assert numbers(sms="with") == ["519688"]
    assert numbers(sms="without") == ["518187"]
    assert numbers(status="all", amount_min=Decimal("30")) == ["518165", "518187"]
    assert numbers(status="all", amount_max=Decimal("10")) == ["519688"]
    assert numbers(status="all", client_number="C2") == ["518187"]
    assert numbers(client_name="rus") == ["519688"]
    assert numbers(number="5181") == ["518187"]
    assert numbers(kind="warranty") == ["518187"]


def test_reminder_finds_ready_tickets_not_told_for_n_days(ctx, users, make_client, ticket):
    settings.put("repair_reminder_days", 10)
    client_id = make_client()
    old = date.today() - timedelta(days=12)
    ticket(client_id, "1", status="ready", returned_on=old)
    ticket(client_id, "2", status="ready", returned_on=date.today() - timedelta(days=3))
    ticket(client_id, "3", status="collected", returned_on=old)
    ticket(client_id, "4", status="ready", returned_on=old, notified_by="sms", notified_at=utcnow())
    staff = user("staff", users)
    total, days, since = repairs.reminder_count(staff)
    assert (total, days) == (1, 10)
    found = repairs.search(staff, repairs.Criteria(waiting_since=since)).rows
    assert [r.RepairTicket.number for r in found] == ["1"]


@pytest.mark.parametrize(
    ("mode", "sends"), [("none", False), ("proposed", True), ("imposed", True)]
)
def test_ticket_ready_follows_the_sav_setting(
    ctx, make_client, ticket, credits_available, redis_client, mode, sends
):
    credits_available(5)
    settings.put("workshop_return_mode", mode)
    settings.put("workshop_return_message", "Votre réparation <NUM> est prête.")
    ticket_id = ticket(make_client(), "4242", status="at_workshop")
    campaign_id = repairs.ticket_ready(ticket_id)
    row = db.session.get(RepairTicket, ticket_id)
    assert row.status == "ready" and row.returned_on == date.today()
    if sends:
        message = db.session.scalar(select(Message).where(Message.campaign_id == campaign_id))
        assert message.text == "Votre réparation 4242 est prête."
        assert message.campaign.kind == "workshop_return"
        assert row.notified_by == "sms"
    else:
        assert campaign_id is None and db.session.scalar(select(Message)) is None


def test_ticket_ready_without_a_mobile_sends_nothing(ctx, make_client, ticket, redis_client):
    ticket_id = ticket(make_client(tel1=""), "77", status="at_workshop")
    assert repairs.ticket_ready(ticket_id) is None
    assert db.session.get(RepairTicket, ticket_id).status == "ready"


def test_client_price_is_workshop_price_times_coefficient_unless_typed():
    assert repairs.client_price(Decimal("12"), Decimal("2.5")) == Decimal("30.00")
    assert repairs.client_price(Decimal("14"), Decimal("2.5"), Decimal("40")) == Decimal("40.00")
    assert repairs.client_price(None, Decimal("2.5")) is None


def test_prevenu_par_sms_lists_the_latest_told_first(ctx, users, make_client, ticket):
    from datetime import datetime

    client_id = make_client()
    ticket(
        client_id,
        "1",
        received_on=date(2026, 1, 1),
        notified_by="sms",
        notified_at=datetime(2026, 3, 1, 9),
    )
    ticket(
        client_id,
        "2",
        received_on=date(2026, 2, 1),
        notified_by="sms",
        notified_at=datetime(2026, 2, 1, 9),
    )
    ticket(client_id, "3", received_on=date(2026, 2, 2))
    staff = user("staff", users)

    def numbers(**criteria):
        found = repairs.search(staff, repairs.Criteria(status="all", **criteria)).rows
        return [r.RepairTicket.number for r in found]

    assert numbers(notified="sms") == ["1", "2"]
    assert numbers(notified="none") == ["3"]
    assert numbers() == ["3", "2", "1"]  # newest ticket first otherwise


def test_ticket_ready_without_credits_keeps_the_ticket_ready_and_untold(
    ctx, make_client, ticket, redis_client
):
    ticket_id = ticket(make_client(), "78", status="at_workshop")
    assert repairs.ticket_ready(ticket_id) is None
    row = db.session.get(RepairTicket, ticket_id)
    assert (row.status, row.notified_by) == ("ready", "")


def test_ticket_ready_refuses_a_collected_ticket(ctx, make_client, ticket):
    ticket_id = ticket(make_client(), "79", status="collected")
    with pytest.raises(repairs.RepairError, match="déjà sortie ou annulée"):
        repairs.ticket_ready(ticket_id)


# --- what the review found ------------------------------------------------------------------


def _other_store():
    from shopsms.models import Store

    other = Store(code="002", name="Bayonne", city="Bayonne")
    db.session.add(other)
    db.session.commit()
    return other


def test_a_failed_sms_leaves_the_ticket_not_told_and_to_remind(
    ctx, users, make_client, ticket, credits_available, redis_client
):
    credits_available(5)
    old = date.today() - timedelta(days=40)
    ticket_id = ticket(make_client(), "500", status="ready", returned_on=old)
    repair_notices.notify([ticket_id], "Fiche <NUM> prête.")
    staff = user("staff", users)

    def numbers(**criteria):
        found = repairs.search(staff, repairs.Criteria(status="all", **criteria)).rows
        return [r.RepairTicket.number for r in found]

    assert numbers(notified="sms") == ["500"] and numbers(notified="none") == []
    assert repairs.reminder_count(staff)[0] == 0
    message = db.session.scalar(select(Message))
    message.state = "failed"
    db.session.commit()
    assert numbers(notified="sms") == [] and numbers(notified="none") == ["500"]
    assert repairs.reminder_count(staff)[0] == 1


def test_a_too_long_message_is_refused_before_anything_goes(
    ctx, make_client, ticket, credits_available, redis_client
):
    from shopsms.services import campaigns

    credits_available(20)
    ticket_id = ticket(make_client(), "501")
    with pytest.raises(campaigns.CampaignError, match="trop long"):
        repair_notices.notify([ticket_id], "Votre réparation est prête. " * 10)
    assert db.session.scalar(select(Message)) is None
    assert db.session.get(RepairTicket, ticket_id).notified_by == ""


def test_head_office_batch_is_one_sending_per_store_with_its_name_and_rules(
    ctx, users, store, make_client, ticket, credits_available, redis_client
):
    from shopsms.models import AuditEntry, Campaign

    credits_available(10)
    other = _other_store()
    settings.put("sender_id", "BAYONNE", store_id=other.id)
    # A client created in Bayonne whose repair is held in Biarritz: <MAGASIN> is Biarritz.
    here = ticket(make_client(store_id=other.id), "600")
    there = RepairTicket(
        number="601",
        client_id=make_client(store_id=other.id),
        store_id=other.id,
        item_description="Bague",
    )
    db.session.add(there)
    db.session.commit()
    admin = users["admin"]
    sent = repair_notices.notify([here, there.id], "Fiche <NUM> à <MAGASIN>.", user_id=admin.id)
    assert sorted((c.store_id, c.sender_id) for c in sent) == sorted(
        [(store.id, "SHOPSMS"), (other.id, "BAYONNE")]
    )
    texts = dict(db.session.execute(select(Message.repair_ticket_id, Message.text)).all())
    assert texts == {here: "Fiche 600 à Biarritz.", there.id: "Fiche 601 à Bayonne."}
    assert db.session.query(Campaign).count() == 2
    entries = db.session.scalars(
        select(AuditEntry.user_id).where(AuditEntry.action == "repair.notify")
    ).all()
    assert entries == [admin.id, admin.id]


def test_a_store_with_the_sms_module_off_stops_the_whole_batch(
    ctx, users, make_client, ticket, credits_available, redis_client
):
    from shopsms.services import campaigns

    credits_available(10)
    other = _other_store()
    other.sms_enabled = False
    db.session.commit()
    mine = ticket(make_client(), "700")
    theirs = RepairTicket(
        number="701",
        client_id=make_client(store_id=other.id),
        store_id=other.id,
        item_description="Bague",
    )
    db.session.add(theirs)
    db.session.commit()
    with pytest.raises(campaigns.CampaignError, match="Bayonne"):
        repair_notices.notify([mine, theirs.id], "Fiche <NUM>.", user_id=users["admin"].id)
    assert db.session.scalar(select(Message)) is None


def test_a_workshop_return_line_with_an_invented_workshop_records_nothing(
    ctx, users, make_client, ticket
):
    ticket_id = ticket(make_client(), "800", status="at_workshop")
    with pytest.raises(repairs.ReturnErrors) as raised:
        repairs.record_return(
            user("staff", users),
            [repairs.ReturnLine(ticket_id, workshop_id=999, workshop_price=Decimal("-1"))],
        )
    assert set(raised.value.lines[ticket_id]) == {"workshop_id", "workshop_price"}
    assert db.session.get(RepairTicket, ticket_id).status == "at_workshop"


def test_the_reminder_counts_a_paris_day_not_a_utc_one(ctx, users, make_client, ticket):
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    settings.put("repair_reminder_days", 10)
    since = date.today() - timedelta(days=10)
    # Told at 00:30 in Paris on the cutoff day, which is the evening before in UTC.
    told = datetime.combine(since, time(0, 30), tzinfo=ZoneInfo("Europe/Paris"))
    told_utc = told.astimezone(UTC).replace(tzinfo=None)
    ticket(
        make_client(),
        "900",
        status="ready",
        returned_on=since - timedelta(days=1),
        notified_by="sms",
        notified_at=told_utc,
    )
    assert repairs.reminder_count(user("staff", users))[0] == 0


def test_head_office_reminds_each_store_after_its_own_delay(ctx, users, store, make_client, ticket):
    other = _other_store()
    settings.put("repair_reminder_days", 5, store_id=other.id)  # the chain keeps 15
    week_ago = date.today() - timedelta(days=7)
    ticket(make_client(), "1000", status="ready", returned_on=week_ago)  # not yet, 15 days
    theirs = RepairTicket(
        number="1001",
        client_id=make_client(store_id=other.id),
        store_id=other.id,
        status="ready",
        returned_on=week_ago,
    )
    db.session.add(theirs)
    db.session.commit()
    admin = user("admin", users)
    total, days, since = repairs.reminder_count(admin)
    assert (total, days) == (1, 15)
    found = repairs.search(admin, repairs.Criteria(waiting_since=since)).rows
    assert [r.RepairTicket.number for r in found] == ["1001"]


def test_workshop_return_refuses_a_ticket_not_at_a_workshop_with_its_reason(
    ctx, users, make_client, ticket
):
    from datetime import datetime

    client_id = make_client()
    told = datetime(2026, 3, 12, 9, 15)  # UTC: 10:15 in Paris
    ticket(
        client_id,
        "500347",
        status="ready",
        returned_on=date(2026, 3, 11),
        notified_by="sms",
        notified_at=told,
    )
    ticket(client_id, "500348", status="ready", returned_on=date(2026, 3, 11))
    ticket(client_id, "500349", status="open")
    ticket(client_id, "500350", status="collected", collected_on=date(2026, 3, 20))
    ticket(client_id, "500351", status="cancelled")
    staff = user("staff", users)
    expected = {
        "500347": "Fiche 500347 : déjà disponible, prévenue le 12/03/2026 à 10:15.",
        "500348": "Fiche 500348 : déjà disponible depuis le 11/03/2026, le client n'a pas "
        "encore été prévenu.",
        "500349": "Fiche 500349 : en magasin, elle n'est pas partie à l'atelier. Enregistrez "
        "d'abord son envoi à l'atelier sur la fiche.",
        "500350": "Fiche 500350 : déjà rendue au client le 20/03/2026.",
        "500351": "Fiche 500351 : annulée, elle ne peut plus revenir de l'atelier.",
    }
    for number, message in expected.items():
        with pytest.raises(repairs.NotAtWorkshop) as refused:
            repairs.find_for_return(staff, number)
        assert str(refused.value) == message
        assert refused.value.can_notify_again == number.startswith(("500347", "500348"))
    # Asked for explicitly: an available ticket comes, to tell its client again.
    assert repairs.find_for_return(staff, "500347", again=True).number == "500347"
    for number in ("500349", "500350", "500351"):
        with pytest.raises(repairs.NotAtWorkshop):
            repairs.find_for_return(staff, number, again=True)


def test_a_ticket_told_again_keeps_its_return_and_one_returned_meanwhile_is_refused(
    ctx, users, make_client, ticket
):
    client_id = make_client()
    ready = ticket(
        client_id,
        "10",
        status="ready",
        returned_on=date(2026, 3, 11),
        client_price=Decimal("30"),
        notified_by="sms",
        notified_at=utcnow(),
    )
    away = ticket(client_id, "11", status="at_workshop")
    staff = user("staff", users)
    done = repairs.record_return(
        staff, [repairs.ReturnLine(ready, again=True), repairs.ReturnLine(away)]
    )
    assert done == [ready, away]
    row = db.session.get(RepairTicket, ready)
    assert (row.status, row.returned_on, row.client_price) == (
        "ready",
        date(2026, 3, 11),
        Decimal("30.00"),
    )

    # Scanned in one tab, recorded meanwhile in another: the second return is refused
    # and records nothing, so the client is not told twice.
    late = ticket(client_id, "12", status="at_workshop")
    fresh = ticket(client_id, "13", status="at_workshop")
    db.session.execute(
        RepairTicket.__table__.update().where(RepairTicket.id == late).values(status="ready")
    )
    db.session.commit()
    with pytest.raises(repairs.NotAtWorkshop, match="Fiche 12 : déjà disponible"):
        repairs.record_return(staff, [repairs.ReturnLine(fresh), repairs.ReturnLine(late)])
    assert db.session.get(RepairTicket, fresh).status == "at_workshop"
    # A line that does not say « again » never tells an available ticket's client.
    with pytest.raises(repairs.NotAtWorkshop):
        repairs.record_return(staff, [repairs.ReturnLine(ready)])


def test_the_client_number_is_found_with_or_without_its_leading_zeros(
    ctx, users, make_client, ticket
):
    ticket(make_client(number="0000888"), "1", status="ready")
    ticket(make_client(number="0008880"), "2", status="ready")
    ticket(make_client(number="A888"), "3", status="ready")
    staff = user("staff", users)

    def numbers(typed):
        found = repairs.search(staff, repairs.Criteria(client_number=typed)).rows
        return sorted(r.RepairTicket.number for r in found)

    assert numbers("888") == ["1"]
    assert numbers("0000888") == ["1"]
    assert numbers("00888") == ["1"]
    assert numbers("8880") == ["2"]
    assert numbers("A888") == ["3"]
    assert numbers("88") == []
    assert repairs.client_number_forms("888")[:3] == ["888", "0888", "00888"]


def test_the_sav_list_keeps_the_clients_of_the_current_selection(ctx, users, make_client, ticket):
    from shopsms import selection
    from shopsms.services import recipients

    russello = make_client(last_name="RUSSELLO")
    russo = make_client(last_name="RUSSO", tel1="")  # in the selection without a mobile
    aslan = make_client(last_name="ASLAN")
    ticket(russello, "519688", status="ready")
    ticket(russo, "519689", status="ready")
    ticket(aslan, "518187", status="ready")
    staff = user("staff", users)
    assert repairs.current_selection(staff) is None
    draft = recipients.draft_from_selection(staff, selection.Criteria(name="RUSS"))
    assert repairs.current_selection(staff).id == draft.id
    criteria = repairs.Criteria(selection_id=draft.id)
    found = sorted(r.RepairTicket.number for r in repairs.search(staff, criteria).rows)
    assert found == ["519688", "519689"]
    assert sorted(repairs.matching_ids(staff, criteria)) == sorted(
        db.session.scalars(select(RepairTicket.id).where(RepairTicket.number.like("5196%")))
    )
    # Another store's selection, or one sent meanwhile, is refused with the reason.
    make_client(last_name="RUSSEL", store_id=_other_store().id)
    bayonne = db.session.scalar(select(Store.id).where(Store.code == "002"))
    theirs = recipients.draft_from_selection(
        user("admin", users), selection.Criteria(name="RUSS"), store_id=bayonne
    )
    with pytest.raises(repairs.RepairError, match="pas de votre magasin"):
        repairs.selection_for(staff, theirs.id)
    db.session.get(type(draft), draft.id).status = "queued"
    db.session.commit()
    with pytest.raises(repairs.RepairError, match="envoyée ou supprimée"):
        repairs.selection_for(staff, draft.id)


def test_the_default_workshop_return_message_ends_with_the_store_and_fits_one_sms(
    ctx, make_client, ticket, store, credits_available, redis_client
):
    db.session.get(Store, store.id).name = "Bijouterie Lumen Biarritz"
    db.session.commit()
    default = settings.get("workshop_return_message", store.id)
    assert default.endswith("\n<MAGASIN>")
    assert repair_notices.check_message(default, store.id) == ""
    credits_available(5)
    ticket_id = ticket(make_client(civility="Madame", last_name="FONTAINE"), "500347")
    repair_notices.notify([ticket_id], None, kind="workshop_return")
    message = db.session.scalar(select(Message))
    assert message.text == (
        "Bonjour Madame Fontaine, votre réparation 500347 est disponible en magasin. "
        "Merci de venir la chercher avec votre ticket.\nBijouterie Lumen Biarritz"
    )
    assert message.parts == 1
