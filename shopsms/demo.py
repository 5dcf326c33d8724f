"""Demo data: a small jewellery and watch chain with a client file that looks real.

The phones are deliberately mixed (mobiles written every way staff type them,
landlines, overseas and foreign numbers, empty and malformed ones) because the
SMS screens must cope with exactly that. Rows go in with bulk inserts so that
50,000 clients and their purchases load in well under a minute.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from faker import Faker
from sqlalchemy import func, select

from .extensions import db
from .models import (
    Brand,
    Campaign,
    Client,
    CreditEntry,
    Message,
    Purchase,
    RepairTicket,
    Store,
    Template,
    User,
    Workshop,
)
from .models.base import bulk_insert
from .services import eligibility, results, variants
from .services.client_fields import derived_fields
from .sms.cost import final_text
from .sms.encoding import measure

DEMO_PASSWORD = "shopsms-demo"

# (code, store name, city, nearby (postal code, city) pairs where its clients live)
STORES = (
    (
        "001",
        "Biarritz",
        "Biarritz",
        (
            ("64200", "Biarritz"),
            ("64600", "Anglet"),
            ("64500", "Saint-Jean-de-Luz"),
            ("64210", "Bidart"),
        ),
    ),
    (
        "002",
        "Bayonne",
        "Bayonne",
        (("64100", "Bayonne"), ("64990", "Mouguerre"), ("40220", "Tarnos"), ("64240", "Hasparren")),
    ),
    (
        "003",
        "Pau",
        "Pau",
        (("64000", "Pau"), ("64110", "Jurançon"), ("64140", "Lons"), ("65000", "Tarbes")),
    ),
    (
        "004",
        "Bordeaux Sainte-Catherine",
        "Bordeaux",
        (("33000", "Bordeaux"), ("33200", "Bordeaux"), ("33400", "Talence"), ("33700", "Mérignac")),
    ),
    (
        "005",
        "Toulouse Capitole",
        "Toulouse",
        (
            ("31000", "Toulouse"),
            ("31400", "Toulouse"),
            ("31700", "Blagnac"),
            ("31770", "Colomiers"),
        ),
    ),
    (
        "006",
        "Paris Opéra",
        "Paris",
        (
            ("75009", "Paris"),
            ("75017", "Paris"),
            ("92200", "Neuilly-sur-Seine"),
            ("93100", "Montreuil"),
        ),
    ),
)
BRANDS = (
    "Ice Watch",
    "Festina",
    "Lotus",
    "Tissot",
    "Seiko",
    "Casio",
    "Swatch",
    "Citizen",
    "Longines",
    "Pandora",
    "Thomas Sabo",
    "Swarovski",
    "Maison Lumen Or 18 carats",
)
WORKSHOPS = (
    ("0307", "Atelier Jérôme", Decimal("2.50")),
    ("0317", "Atelier Horlogerie", Decimal("2.50")),
    ("0320", "Atelier Joaillerie du Sud-Ouest", Decimal("2.20")),
)
REPAIR_ITEMS = (
    ("Montre Ice Watch blanche", "Fournir et poser une pile"),
    ("Montre femme acier", "Ne fonctionne plus : révision"),
    ("Jonc en or 18 ct", "Sertir et coller la pierre"),
    ("Chronographe Tissot", "Pile chrono + étanchéité"),
    ("Bague solitaire", "Mise à taille 54"),
    ("Collier maille forçat", "Changer le fermoir"),
    ("Montre automatique Seiko", "Mécanisme 3 aiguilles"),
    ("Bracelet cuir Festina", "Changer le bracelet"),
)
TEMPLATES = (
    (
        "Retour atelier",
        None,
        "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est disponible en magasin. "
        "Merci de venir la chercher avec votre ticket.\n<MAGASIN>",
    ),
    (
        "Anniversaire",
        None,
        "Joyeux anniversaire <PRENOM> ! -10 % sur tout le magasin ce mois-ci. <MAGASIN>",
    ),
    (
        "Soirée privée",
        "001",
        "<NOM>, soirée privée jeudi 19h : nouveautés montres et bijoux. Bijouterie Biarritz",
    ),
)


@dataclass
class SeedReport:
    stores: int = 0
    users: list = field(default_factory=list)
    clients: int = 0
    purchases: int = 0
    repair_tickets: int = 0
    campaigns: int = 0


def is_empty():
    return not db.session.scalar(select(func.count(Store.id)))


def seed(clients=2000, *, seed=2026, today=None, progress=None):
    """Fill an empty database with a demo chain; returns what was created.

    `progress(n)` is called as work gets done, 2 × clients in all (clients, then purchases).
    """
    progress = progress or (lambda n: None)
    rng = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    today = today or date.today()
    report = SeedReport()

    stores, brands, workshops, report.users = chain()
    report.stores = len(stores)
    client_ids = _clients(rng, fake, stores, clients, today, progress)
    report.clients = len(client_ids)
    report.purchases = _purchases(rng, client_ids, stores, brands, today, progress)
    report.repair_tickets = _repairs(rng, client_ids, workshops, today)
    db.session.commit()
    report.campaigns, sales = past_campaigns(rng, stores, brands, today)
    report.purchases += sales
    return report


def chain():
    """The chain without its clients: stores, logins, brands, workshops, templates and
    credits. Returns (stores, brands, workshops, the logins made)."""
    stores = _stores()
    users = _users(stores)
    brands = [Brand(name=name) for name in BRANDS]
    workshops = [Workshop(code=c, name=n, default_coefficient=k) for c, n, k in WORKSHOPS]
    db.session.add_all(brands + workshops)
    db.session.flush()
    for name, store_code, body in TEMPLATES:
        store = next((s for s in stores if s.code == store_code), None)
        db.session.add(Template(name=name, body=body, store_id=store and store.id))
    db.session.add(CreditEntry(kind="topup", amount=10_000, reference="Crédits de démonstration"))
    db.session.commit()
    return stores, brands, workshops, users


def _stores():
    stores = [Store(code=code, name=name, city=city) for code, name, city, _ in STORES]
    db.session.add_all(stores)
    db.session.flush()
    return stores


def _users(stores):
    """A head office login, and a manager and a salesperson per store."""
    people = [("siege", "admin", None, "Claire Martin (siège)")]
    for store in stores[:3]:
        slug = store.city.lower()
        people.append((f"gerant.{slug}", "manager", store, f"Gérant {store.name}"))
        people.append((f"vendeur.{slug}", "staff", store, f"Vendeur {store.name}"))
    created = []
    for username, role, store, full_name in people:
        user = User(username=username, role=role, store=store, full_name=full_name)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        created.append((username, role, store.name if store else "tous les magasins"))
    return created


def _digits(rng, count):
    return "".join(rng.choice("0123456789") for _ in range(count))


def _french(number10, rng):
    """A 10-digit French number written the ways point-of-sale files hold them."""
    pairs = " ".join(number10[i : i + 2] for i in range(0, 10, 2))
    style = rng.random()
    if style < 0.45:
        return number10
    if style < 0.75:
        return pairs
    if style < 0.85:
        return pairs.replace(" ", ".")
    if style < 0.95:
        return "+33 " + number10[1] + " " + " ".join(number10[i : i + 2] for i in range(2, 10, 2))
    return "0033" + number10[1:]


def _phone(rng, kind):
    if kind == "mobile":
        # 07 mobiles start 073 to 079 in the French plan; 06 takes any digit.
        if rng.random() < 0.7:
            return _french("06" + _digits(rng, 8), rng)
        return _french("07" + rng.choice("3456789") + _digits(rng, 7), rng)
    if kind == "landline":
        return _french(rng.choice(("01", "05", "05", "05", "09")) + _digits(rng, 8), rng)
    if kind == "overseas":
        return rng.choice(("0690 ", "0696 ", "+262 692 ")) + " ".join(
            _digits(rng, 2) for _ in range(3)
        )
    if kind == "foreign":
        return rng.choice(("+32 470 ", "+41 79 ", "+34 612 ", "+44 7700 ")) + _digits(rng, 6)
    if kind == "malformed":
        return rng.choice(("06 12 34", "O6 12 34 56 78", "0612345", "n/a", "06-00"))
    return ""


def _phones(rng):
    """tel1, tel2 in the proportions a real file has."""
    roll = rng.random()
    if roll < 0.62:
        return _phone(rng, "mobile"), (_phone(rng, "landline") if rng.random() < 0.2 else "")
    if roll < 0.72:  # a landline first and the mobile in Tél. 2
        return _phone(rng, "landline"), _phone(rng, "mobile")
    if roll < 0.80:
        return _phone(rng, "landline"), ""
    if roll < 0.84:
        return _phone(rng, "overseas"), ""
    if roll < 0.87:
        return _phone(rng, "foreign"), ""
    if roll < 0.91:
        return _phone(rng, "malformed"), ""
    return "", ""


def _clients(rng, fake, stores, count, today, progress):
    start = date(2012, 1, 1)
    span = (today - start).days
    rows = []
    for n in range(1, count + 1):
        store = rng.choice(stores)
        _, _, _, places = STORES[stores.index(store)]
        postal_code, city = rng.choice(places)
        woman = rng.random() < 0.62
        civility = ("Madame" if rng.random() < 0.9 else "Mademoiselle") if woman else "Monsieur"
        if rng.random() < 0.04:
            civility = ""
        first = fake.first_name_female() if woman else fake.first_name_male()
        last = fake.last_name()
        if rng.random() < 0.6:  # most point-of-sale files shout the last name
            last = last.upper()
        tel1, tel2 = _phones(rng)
        birthday = None
        if rng.random() < 0.7:
            birthday = date(rng.randint(1940, 2006), rng.randint(1, 12), rng.randint(1, 28))
        incomplete = rng.random() < 0.05
        consent = rng.choices(("accepted", "refused", "unknown"), (65, 15, 20))[0]
        rows.append(
            {
                "external_id": f"DEMO-C{n:07d}",
                "number": f"{n:07d}",
                "civility": civility,
                "last_name": last,
                "first_name": first,
                "address1": "" if incomplete else fake.street_address(),
                "postal_code": postal_code,
                "city": (city := "" if incomplete and rng.random() < 0.5 else city),
                "country": "FR",
                "tel1": tel1,
                "tel2": tel2,
                **derived_fields(tel1, tel2, last, first, city),
                "email": fake.email() if rng.random() < 0.55 else "",
                "birthday": birthday,
                "birthday_md": birthday.month * 100 + birthday.day if birthday else None,
                "created_on": start + timedelta(days=rng.randrange(span)),
                "store_id": store.id,
                "salesperson": rng.choice(("", "Sabine", "Karim", "Lucie", "Marc")),
                "sms_consent": consent,
                "sms_refuses_all": consent == "refused" and rng.random() < 0.15,
                "email_consent": rng.random() < 0.4,
                "post_consent": rng.random() < 0.5,
                "npai": rng.random() < 0.03,
            }
        )
        if n % 1000 == 0:
            progress(1000)
    progress(count % 1000)
    bulk_insert(Client, rows)
    db.session.commit()
    # One query for the ids: INSERT … RETURNING in parameter order is quadratic here.
    ids = dict(db.session.execute(select(Client.number, Client.id)).all())
    return [(ids[row["number"]], row["created_on"], row["store_id"]) for row in rows]


def _purchases(rng, client_ids, stores, brands, today, progress):
    store_ids = [s.id for s in stores]
    brand_ids = [b.id for b in brands]
    brand_weights = [8, 7, 6, 5, 5, 6, 6, 4, 2, 7, 4, 5, 3]
    total = 0
    batch = []
    for done, (client_id, created_on, home_store) in enumerate(client_ids, 1):
        if done % 1000 == 0:
            progress(1000)
        visits = min(int(rng.expovariate(1 / 4.0)), 40)
        span = max((today - created_on).days, 1)
        for _ in range(visits):
            batch.append(
                {
                    "external_id": f"DEMO-V{total + len(batch) + 1:08d}",
                    "client_id": client_id,
                    "store_id": home_store if rng.random() < 0.85 else rng.choice(store_ids),
                    "brand_id": rng.choices(brand_ids, brand_weights)[0],
                    "date": created_on + timedelta(days=rng.randrange(span)),
                    "amount": Decimal(min(round(rng.lognormvariate(4.5, 0.9), 2), 9999)).quantize(
                        Decimal("0.01")
                    ),
                    "ticket_number": _digits(rng, 8),
                }
            )
        if len(batch) >= 10_000:
            bulk_insert(Purchase, batch)
            total += len(batch)
            batch = []
    if batch:
        bulk_insert(Purchase, batch)
        total += len(batch)
    db.session.commit()
    progress(len(client_ids) % 1000)
    return total


def _repairs(rng, client_ids, workshops, today):
    """Tickets in every status, the recent ones still in the workshop or ready."""
    count = max(30, min(len(client_ids) // 20, 3000))
    statuses = ("open", "at_workshop", "ready", "collected", "cancelled")
    weights = (10, 20, 15, 50, 5)
    rows = []
    for n in range(count):
        client_id, _, store_id = rng.choice(client_ids)
        status = rng.choices(statuses, weights)[0] if n >= len(statuses) else statuses[n]
        kind = rng.choices(("repair", "warranty", "free", "quote"), (60, 20, 8, 12))[0]
        item, work = rng.choice(REPAIR_ITEMS)
        workshop = rng.choice(workshops)
        received = today - timedelta(days=rng.randint(1, 200))
        sent = received + timedelta(days=rng.randint(0, 3)) if status != "open" else None
        returned = (
            sent + timedelta(days=rng.randint(5, 25))
            if sent and status in ("ready", "collected")
            else None
        )
        if returned and returned > today:
            returned = today
        price = Decimal(rng.choice((12, 14, 18, 28, 35, 60))).quantize(Decimal("0.01"))
        coefficient = workshop.default_coefficient
        rows.append(
            {
                "external_id": f"DEMO-S{n + 1:06d}",
                "number": str(500_000 + n * 7 + rng.randint(0, 6)),
                "client_id": client_id,
                "store_id": store_id,
                "kind": kind,
                "status": status,
                "item_description": item,
                "work_description": work,
                "workshop_id": workshop.id if sent else None,
                "workshop_price": price if returned else None,
                "coefficient": coefficient if returned else None,
                "client_price": Decimal("0.00")
                if kind in ("warranty", "free")
                else (price * coefficient).quantize(Decimal("0.01")),
                "received_on": received,
                "sent_to_workshop_on": sent,
                "returned_on": returned,
                "collected_on": returned + timedelta(days=rng.randint(1, 20))
                if status == "collected" and returned
                else None,
            }
        )
    bulk_insert(RepairTicket, rows)
    db.session.commit()
    return len(rows)


# Past marketing campaigns with their control group and the sales that followed, so that
# « Résultats » shows something real at once: (days ago, store code or None for the
# chain, name, text, control share %, how much more often a texted client buys within
# the window than a held-out one). The first is the effect the issue names (12 % more
# often); an invitation to a private sale does better; the last one is still running.
PAST_CAMPAIGNS = (
    (
        48,
        None,
        "Nouvelle collection",
        "<PRENOM>, la nouvelle collection est arrivée en magasin : venez la découvrir ! <MAGASIN>",
        20,
        1.12,
    ),
    (
        27,
        "001",
        "Soirée privée",
        "<NOM>, soirée privée jeudi 19h : nouveautés montres et bijoux. Bijouterie Biarritz",
        10,
        1.0,
    ),
    (
        5,
        None,
        "Ventes privées -20 %",
        "<PRENOM>, ventes privées : -20 % sur tout le magasin jusqu'à samedi. <MAGASIN>",
        15,
        1.6,
    ),
)
# A/B texts: the last one also tried a second text on half of its texted clients (name:
# « Variante B », its share %, its effect as above).
PAST_VARIANT_B = {
    "Ventes privées -20 %": (
        "<PRENOM>, -20 % sur tout jusqu'à samedi pour nos clients fidèles. <MAGASIN>",
        50,
        1.3,
    ),
}
# Share of the held-out clients who buy within 14 days anyway, and how the buying spreads
# over the days after the sending (most of it in the first days).
BASE_RATE = 0.14
WINDOW = 14


def past_campaigns(rng, stores, brands, today):
    store_by_code = {s.code: s for s in stores}
    store_names = {s.id: s.name for s in stores}
    brand_ids = [b.id for b in brands]
    made = sold = 0
    kept = []
    for days_ago, code, name, body, share, effect in PAST_CAMPAIGNS:
        store = store_by_code.get(code)
        sent_on = today - timedelta(days=days_ago)
        started = datetime.combine(sent_on, time(9, 30))  # 10:30 or 11:30 in Paris
        campaign = Campaign(
            kind="marketing",
            status="sent",
            name=name,
            store_id=store and store.id,
            body=body,
            add_stop=True,
            sender_id="BIJOUX",
            control_share=share,
            created_at=started - timedelta(hours=1),
            started_at=started,
            finished_at=started + timedelta(minutes=4),
            closed_at=started + timedelta(days=1),  # read: the demo's reports to close are others
        )
        db.session.add(campaign)
        db.session.flush()
        query = eligibility.join_optouts(
            select(
                Client.id,
                Client.sms_number,
                Client.store_id,
                Client.civility,
                Client.first_name,
                Client.last_name,
            )
        ).where(eligibility.reachable("marketing"))
        if store is not None:
            query = query.where(Client.store_id == store.id)
        seen, eligible = set(), []
        for row in db.session.execute(query.order_by(Client.id)):
            if row.sms_number not in seen:
                seen.add(row.sms_number)
                eligible.append(row)
        held = set(results.draw(campaign.id, [row.id for row in eligible], share))
        in_b, body_b, effect_b = set(), "", effect
        if name in PAST_VARIANT_B:
            body_b, split_b, effect_b = PAST_VARIANT_B[name]
            campaign.body_b, campaign.split_b = body_b, split_b
            texted = [row.id for row in eligible if row.id not in held]
            in_b = set(variants.draw(campaign.id, texted, split_b))
        rows, sales, spent = [], [], 0
        for row in eligible:
            client_id, number, home = row.id, row.sms_number, row.store_id
            context = {
                "civility": row.civility,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "store": store_names[home],
            }
            control = client_id in held
            variant = "" if control or not body_b else ("B" if client_id in in_b else "A")
            text = final_text(body_b if variant == "B" else body, context, add_stop=True)
            parts = measure(text)[2]
            spent += 0 if control else parts
            rows.append(
                {
                    "campaign_id": campaign.id,
                    "client_id": client_id,
                    "phone": number,
                    "text": text,
                    "parts": parts,
                    "state": "skipped" if control else "delivered",
                    "skip_reason": "control" if control else "",
                    "variant": variant,
                    "submitted_at": None if control else started,
                    "done_at": started + timedelta(seconds=rng.randint(5, 240)),
                    "created_at": started,
                    "gateway": "" if control else "outbox",
                }
            )
            if len(rows) == 50_000:  # memory flat at a chain's size (bench/results_page.py)
                bulk_insert(Message, rows)
                rows = []
            rate = BASE_RATE * (1 if control else effect_b if variant == "B" else effect)
            if rng.random() < rate:
                day = min(int(rng.expovariate(1 / 3.5)), WINDOW - 1)
                when = sent_on + timedelta(days=day)
                if when < today:
                    sales.append(
                        {
                            "client_id": client_id,
                            "store_id": home if rng.random() < 0.8 else rng.choice(stores).id,
                            "brand_id": rng.choice(brand_ids),
                            "date": when,
                            "amount": Decimal(
                                min(round(rng.lognormvariate(4.6, 0.8), 2), 9999)
                            ).quantize(Decimal("0.01")),
                            "ticket_number": _digits(rng, 8),
                        }
                    )
        bulk_insert(Message, rows)
        bulk_insert(Purchase, sales)
        sold += len(sales)
        campaign.recipients_count = len(eligible)
        campaign.settled_at = campaign.finished_at
        db.session.add_all(
            [
                CreditEntry(
                    kind="reservation",
                    amount=-spent,
                    campaign_id=campaign.id,
                    store_id=campaign.store_id,
                    created_at=started,
                ),
                CreditEntry(
                    kind="charge",
                    amount=0,
                    parts=spent,
                    campaign_id=campaign.id,
                    store_id=campaign.store_id,
                    created_at=campaign.finished_at,
                ),
            ]
        )
        made += 1
        kept.append(campaign)
    # Sent campaigns: their « Résultats » kept from the sales written above, as the end
    # of a real sending does (sending.finish).
    db.session.flush()
    for campaign in kept:
        results.start_keeping(campaign)
    db.session.commit()
    return made, sold
