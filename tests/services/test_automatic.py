"""« Envois automatiques » (#22) with a moving clock: the scheduler's function is called
for every day of a year as the sweep would, and the database says who got what on which
day. No sleeping, no worker: the runs' campaigns are queued and read from their rows."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopsms.extensions import db
from shopsms.models import Campaign, Client, Message, Purchase, RepairTicket, utcnow
from shopsms.models.automatic import AutomaticRun, AutomaticTicketNotice
from shopsms.services import automatic, credits, settings
from shopsms.sms import hours
from shopsms.sms.phones import sms_number


def paris(day, hour, minute=0):
    """Naive UTC of a Paris wall-clock time (what the sweep's utcnow() would be)."""
    local = datetime.combine(day, time(hour, minute), tzinfo=hours.PARIS)
    return local.astimezone(UTC).replace(tzinfo=None)


def days(start, end):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def turn_on(store_id, kind, **values):
    setting = automatic.card(store_id, kind)
    form = {
        "enabled": "1",
        "body": values.pop("body", setting.body or "Bonjour <PRENOM>"),
        "send_time": values.pop("send_time", "10:00"),
        "days": str(values.pop("days", setting.days)),
        "repeat_max": str(values.pop("repeat_max", setting.repeat_max)),
        "repeat_every": str(values.pop("repeat_every", setting.repeat_every)),
    }
    cleaned, errors = automatic.clean(kind, form, store_id)
    assert errors == {}
    return automatic.save(None, store_id, kind, cleaned)


def texted(kind):
    """{day of the run: sorted client ids with a message to send} for one kind."""
    out = {}
    rows = db.session.execute(
        select(AutomaticRun.day, Message.client_id)
        .join(Message, Message.campaign_id == AutomaticRun.campaign_id)
        .where(AutomaticRun.kind == kind, Message.state == "pending")
    )
    for day, client_id in rows:
        out.setdefault(day, []).append(client_id)
    return {day: sorted(ids) for day, ids in out.items()}


def a_client(store_id, number, **fields):
    values = {
        "number": number,
        "last_name": f"NOM{number}",
        "first_name": "Anne",
        "tel1": f"06 12 34 {int(number) // 100:02d} {int(number) % 100:02d}",
        "sms_consent": "accepted",
        "store_id": store_id,
    } | fields
    values["sms_number"] = sms_number(values["tel1"], "")
    if values.get("birthday"):
        values["birthday_md"] = values["birthday"].month * 100 + values["birthday"].day
    client = Client(**values)
    db.session.add(client)
    db.session.flush()
    return client.id


def bought(client_id, store_id, day):
    db.session.add(Purchase(client_id=client_id, store_id=store_id, date=day, amount=Decimal("10")))


@pytest.fixture
def chain(ctx, store):
    credits.top_up(100_000, reference="tests")
    return store


def test_a_year_of_days_texts_the_right_clients_on_the_right_days(chain):
    store_id = chain.id
    march = a_client(store_id, 1, birthday=date(1990, 3, 12))
    leap = a_client(store_id, 2, birthday=date(1992, 2, 29))
    no_consent = a_client(store_id, 3, birthday=date(1985, 7, 1), sms_consent="refused")
    absent = a_client(store_id, 4)
    loyal = a_client(store_id, 5)
    # Sales come in on their day, as the clock moves: `absent` is away 60 days after
    # 1 March, comes back on 1 June, is away again; `loyal` comes every month.
    sales = {day: [absent] for day in (date(2027, 1, 5), date(2027, 3, 1), date(2027, 6, 1))}
    for day in days(date(2027, 1, 1), date(2027, 12, 31)):
        if day.day == 1:
            sales.setdefault(day, []).append(loyal)
    ticket = RepairTicket(
        number="R1",
        client_id=loyal,
        store_id=store_id,
        status="ready",
        returned_on=date(2027, 5, 1),
        item_description="Montre",
    )
    db.session.add(ticket)
    db.session.commit()
    turn_on(store_id, "birthday", body="Joyeux anniversaire <PRENOM> !")
    turn_on(store_id, "absent", days=60, body="Vous nous manquez <PRENOM>.")
    turn_on(
        store_id,
        "repair_reminder",
        days=10,
        repeat_max=2,
        repeat_every=7,
        body="Votre réparation <NUM> vous attend.",
    )

    for day in days(date(2027, 1, 1), date(2027, 12, 31)):
        for client_id in sales.get(day, ()):
            bought(client_id, store_id, day)
        db.session.commit()
        for hour in (8, 11, 23):  # before the time, after it, and again: once a day
            automatic.tick(paris(day, hour), worker="test")

    assert texted("birthday") == {date(2027, 3, 12): [march], date(2027, 2, 28): [leap]}
    # The client without consent was in the 1 July run's report, skipped, not texted.
    july = db.session.scalar(
        select(AutomaticRun.campaign_id).where(
            AutomaticRun.kind == "birthday", AutomaticRun.day == date(2027, 7, 1)
        )
    )
    skipped = db.session.execute(
        select(Message.client_id, Message.skip_reason).where(Message.campaign_id == july)
    ).all()
    assert skipped == [(no_consent, "no_consent")]
    assert texted("absent") == {date(2027, 4, 30): [absent], date(2027, 7, 31): [absent]}
    assert texted("repair_reminder") == {date(2027, 5, 11): [loyal], date(2027, 5, 18): [loyal]}
    # One run row per store, kind and day at most, and each run's campaign is named.
    runs = db.session.execute(select(AutomaticRun.kind, AutomaticRun.day)).all()
    assert len(runs) == len(set(runs))
    names = set(db.session.scalars(select(Campaign.name).where(Campaign.kind == "marketing")))
    assert {"Anniversaire — 12/03", "Anniversaire — 28/02", "Relance des absents — 30/04"} <= names
    # Every marketing text carries the STOP mention.
    bodies = db.session.scalars(
        select(Message.text)
        .join(Campaign, Campaign.id == Message.campaign_id)
        .where(Campaign.kind == "marketing", Message.state == "pending")
    ).all()
    assert bodies and all("STOP" in body for body in bodies)


def test_29_february_birthdays_are_on_the_day_in_a_leap_year(chain):
    leap = a_client(chain.id, 1, birthday=date(1992, 2, 29))
    feb28 = a_client(chain.id, 2, birthday=date(1990, 2, 28))
    db.session.commit()
    turn_on(chain.id, "birthday")
    for day in days(date(2028, 2, 27), date(2028, 3, 1)):
        automatic.tick(paris(day, 11), worker="test")
    assert texted("birthday") == {date(2028, 2, 28): [feb28], date(2028, 2, 29): [leap]}


def test_a_run_missed_while_the_server_was_down_runs_later_that_day_never_the_next(chain):
    early = a_client(chain.id, 1, birthday=date(1990, 3, 12))
    late = a_client(chain.id, 2, birthday=date(1990, 3, 13))
    db.session.commit()
    turn_on(chain.id, "birthday", send_time="10:00")
    automatic.tick(paris(date(2027, 3, 12), 9, 59))  # not yet; then down until the 13th
    automatic.tick(paris(date(2027, 3, 13), 16, 30))  # back the next day, in the afternoon
    assert texted("birthday") == {date(2027, 3, 13): [late]}
    assert early not in [c for ids in texted("birthday").values() for c in ids]


def test_a_client_skipped_for_one_run_is_texted_the_next_time(chain):
    client = a_client(chain.id, 1, birthday=date(1990, 3, 12))
    db.session.commit()
    turn_on(chain.id, "birthday")
    automatic.skip_client(None, chain.id, "birthday", date(2027, 3, 12), client)
    tomorrow = automatic.preview(automatic.card(chain.id, "birthday"), date(2027, 3, 12))
    assert tomorrow.recipients == 0
    automatic.tick(paris(date(2027, 3, 12), 11))
    automatic.tick(paris(date(2028, 3, 12), 11))
    assert texted("birthday") == {date(2028, 3, 12): [client]}


def test_a_run_that_would_go_under_the_low_credit_threshold_does_not_start_and_says_why(chain):
    for n in range(3):
        a_client(chain.id, n + 1, birthday=date(1990, 3, 12))
    db.session.commit()
    turn_on(chain.id, "birthday")
    left = credits.balance()
    settings.put("low_credit_threshold", left - 2)  # 3 SMS would take it under
    automatic.tick(paris(date(2027, 3, 12), 11))
    run = db.session.scalar(select(AutomaticRun))
    assert run.status == "no_credits" and run.campaign_id is None
    assert "seuil d'alerte" in run.note and f"il en reste {left}" in run.note
    assert credits.balance() == left
    automatic.tick(paris(date(2027, 3, 12), 15))  # the same day again: still once
    assert db.session.scalar(select(AutomaticRun.status)) == "no_credits"
    assert texted("birthday") == {}


def test_a_run_held_for_credits_goes_once_the_same_day_after_a_top_up_never_the_next(chain):
    for n in range(3):
        a_client(chain.id, n + 1, birthday=date(1990, 3, 12))
    db.session.commit()
    turn_on(chain.id, "birthday")
    settings.put("low_credit_threshold", credits.balance() - 1)  # 3 SMS: 2 under it
    automatic.tick(paris(date(2027, 3, 12), 10, 5))
    assert db.session.scalar(select(AutomaticRun.status)) == "no_credits"
    credits.top_up(1)  # still 1 under: still held, nothing drafted
    automatic.tick(paris(date(2027, 3, 12), 10, 30))
    assert db.session.scalar(select(AutomaticRun.status)) == "no_credits"
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    credits.top_up(100)
    automatic.tick(paris(date(2027, 3, 12), 11))
    automatic.tick(paris(date(2027, 3, 12), 11, 1))  # a second sweep: still once
    run = db.session.scalar(select(AutomaticRun))
    assert run.status == "sent" and run.note == ""
    assert texted("birthday") == {
        date(2027, 3, 12): sorted(
            db.session.scalars(select(Client.id).where(Client.store_id == chain.id)).all()
        )
    }
    assert automatic.held_for_credits(chain.id, now=paris(date(2027, 3, 12), 11)) == []


def test_a_run_held_yesterday_is_not_sent_today_after_a_top_up(chain):
    a_client(chain.id, 1, birthday=date(1990, 3, 12))
    db.session.commit()
    turn_on(chain.id, "birthday")
    settings.put("low_credit_threshold", credits.balance())
    automatic.tick(paris(date(2027, 3, 12), 11))
    credits.top_up(100)
    automatic.tick(paris(date(2027, 3, 13), 11))
    assert db.session.scalar(select(AutomaticRun.status)) == "no_credits"
    assert texted("birthday") == {}


def test_head_office_pauses_a_kind_for_the_chain(chain):
    a_client(chain.id, 1, birthday=date(1990, 3, 12))
    db.session.commit()
    turn_on(chain.id, "birthday")
    automatic.set_chain_pause(None, "birthday", True)
    automatic.tick(paris(date(2027, 3, 12), 11))
    assert texted("birthday") == {}
    automatic.set_chain_pause(None, "birthday", False)
    automatic.tick(paris(date(2027, 3, 12), 12))
    assert len(texted("birthday")) == 1


def test_a_repair_that_becomes_ready_by_any_path_is_told_once(chain):
    client = a_client(chain.id, 1)
    old = RepairTicket(
        number="OLD", client_id=client, store_id=chain.id, status="ready", item_description="Bague"
    )
    new = RepairTicket(
        number="NEW",
        client_id=client,
        store_id=chain.id,
        status="at_workshop",
        item_description="Montre",
    )
    db.session.add_all([old, new])
    db.session.commit()
    turn_on(chain.id, "repair_ready")  # OLD was ready before: it is not « becoming ready »
    automatic.tick(paris(date(2027, 3, 12), 11))
    assert db.session.scalars(select(Message.repair_ticket_id)).all() == []
    new.status = "ready"  # as an import or the ticket screen would write it
    db.session.commit()
    for minute in range(3):
        automatic.tick(paris(date(2027, 3, 12), 11, minute))
    new.status = "at_workshop"
    db.session.commit()
    new.status = "ready"  # back again: never twice automatically
    db.session.commit()
    automatic.tick(paris(date(2027, 3, 12), 12))
    messages = db.session.execute(select(Message.repair_ticket_id, Message.text)).all()
    assert len(messages) == 1 and messages[0][0] == new.id
    assert "NEW" in messages[0][1]
    notice = db.session.scalar(
        select(AutomaticTicketNotice).where(AutomaticTicketNotice.ticket_id == new.id)
    )
    campaign = db.session.get(Campaign, notice.campaign_id)
    assert campaign.kind == "workshop_return" and campaign.status == "queued"
    assert db.session.get(RepairTicket, new.id).notified_by == "sms"


def test_a_run_claimed_twice_runs_once_and_a_dead_workers_run_is_finished_once(chain):
    from shopsms.services import campaigns
    from shopsms.services.campaigns import Recipient

    first = a_client(chain.id, 1, birthday=date(1990, 3, 12))
    second = a_client(chain.id, 2, birthday=date(1990, 3, 13))
    db.session.commit()
    setting = turn_on(chain.id, "birthday")
    day = date(2027, 3, 12)
    assert automatic.run_once(setting, day, now=paris(day, 11), worker="a") == "sent"
    assert automatic.run_once(setting, day, now=paris(day, 11), worker="b") is None
    # The next day a worker claims the run, drafts its campaign, and dies.
    day = date(2027, 3, 13)
    run = AutomaticRun(
        store_id=chain.id,
        kind="birthday",
        day=day,
        worker="gone:1",
        started_at=utcnow() - timedelta(minutes=10),
    )
    db.session.add(run)
    db.session.commit()
    left = campaigns.draft(
        "marketing",
        body="Joyeux anniversaire",
        store_id=chain.id,
        recipients=[Recipient(client_id=second)],
        name=automatic.run_name("birthday", day),
    )
    assert automatic.resume_stale() == [run.id]  # its worker beats no more
    assert automatic.resume_stale() == []
    db.session.expire_all()
    assert db.session.get(AutomaticRun, run.id).campaign_id == left.id
    assert db.session.get(Campaign, left.id).status == "queued"
    assert texted("birthday") == {date(2027, 3, 12): [first], day: [second]}
