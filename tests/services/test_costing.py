"""The composer's cost: on each recipient's final text, read in one query."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from shopsms.extensions import db
from shopsms.models import Client, CreditEntry
from shopsms.services import costing, settings

pytestmark = pytest.mark.usefixtures("ctx")


@contextmanager
def count_queries():
    queries = []

    def before(conn, cursor, statement, parameters, context, executemany):
        queries.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield queries
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def clients(store):
    """Short and long names, so that <NOM> gives texts of different lengths."""
    people = [
        ("Monsieur", "JEAN", "DUPONT"),
        ("Madame", "MARIE", "MARTIN"),
        ("Madame", "MARIE-CHRISTINE", "DE LA FONTAINE-BEAUMARCHAIS"),
        ("", "", "LEE"),
    ]
    rows = [
        Client(number=f"C{i}", civility=c, first_name=f, last_name=last, store_id=store.id)
        for i, (c, f, last) in enumerate(people)
    ]
    db.session.add_all(rows)
    db.session.add(CreditEntry(kind="topup", amount=100))
    db.session.commit()
    return [row.id for row in rows]


def test_recipient_contexts_are_read_in_one_query(clients):
    with count_queries() as queries:
        contexts = list(costing.recipient_contexts(clients))
    assert len(queries) == 1
    assert contexts[0] == {
        "civility": "Monsieur",
        "first_name": "JEAN",
        "last_name": "DUPONT",
        "store": "Biarritz",
    }


def test_a_query_of_ids_is_costed_in_one_query_too(clients):
    selection = select(Client.id).where(Client.civility == "Madame")
    with count_queries() as queries:
        cost = costing.for_clients("Bonjour <NOM>", selection, add_stop=False)
    assert cost.estimate.recipients == 2
    # One for the clients, one for each setting, one for the balance: never one per client.
    assert len(queries) == 4


def test_exact_credits_with_stop_and_expressions(clients):
    # 133 + 1 + name + 11 ("\nSTOP 36608"): "M. JEAN DUPONT" (14) makes 159 and "LEE" 148,
    # which fit; "Mme MARIE MARTIN" (16) makes 161, and the 47 characters of
    # "Mme MARIE-CHRISTINE DE LA FONTAINE-BEAUMARCHAIS" 192: two SMS each.
    body = "x" * 133 + " <NOM>"
    cost = costing.for_clients(body, clients, add_stop=True)
    estimate = cost.estimate
    assert estimate.recipients == 4
    assert estimate.by_parts == {1: 2, 2: 2}
    assert estimate.credits == 6
    assert estimate.over_limit == 2
    assert estimate.longest_text.endswith("DE LA FONTAINE-BEAUMARCHAIS\nSTOP 36608")
    assert estimate.over_by == 192 - 160
    assert (cost.available, cost.left, cost.missing) == (100, 94, 0)


def test_the_limit_is_the_max_parts_setting(clients, store):
    settings.put("max_parts", 2, store_id=store.id)
    body = "x" * 133 + " <NOM>"
    assert (
        costing.for_clients(body, clients, add_stop=True, store_id=store.id).estimate.over_limit
        == 0
    )
    assert costing.for_clients(body, clients, add_stop=True).estimate.over_limit == 2


def test_the_stop_short_code_is_the_setting(clients):
    settings.put("stop_short_code", "38100")
    preview = costing.preview("Soldes", add_stop=True, client_ids=clients[:1])
    assert preview.text == "Soldes\nSTOP 38100"
    assert preview.stop_units == len("\nSTOP 38100")


def test_missing_credits(clients):
    db.session.add(CreditEntry(kind="reservation", amount=-99))
    db.session.commit()
    cost = costing.for_clients("Bonjour", clients, add_stop=False)
    assert (cost.credits, cost.available, cost.left, cost.missing) == (4, 1, -3, 3)


def test_without_recipients_the_example_client_is_used(store):
    preview = costing.preview(
        "Bonjour <NOM>, à bientôt chez <MAGASIN>", add_stop=False, store_id=store.id
    )
    assert preview.cost.example
    assert preview.text == "Bonjour M. JEAN DUPONT, à bientôt chez Biarritz"
    assert preview.cost.credits == 1
    assert preview.analysis.encoding == "UCS-2"
    assert preview.body_non_gsm == ("ô",)
    assert preview.gsm_parts == 1


def test_149_characters_with_stop_fit_one_sms():
    assert costing.preview("a" * 149, add_stop=True).over_limit == 0
    over = costing.preview("a" * 152, add_stop=True)
    assert (over.over_limit, over.over_by, over.limit, over.limit - over.stop_units) == (
        1,
        3,
        160,
        149,
    )


def test_replacing_special_characters_is_measured_before_it_is_done():
    body = "Très chère cliente, " + "ê" * 60  # 80 units of UCS-2: 2 parts
    preview = costing.preview(body, add_stop=False)
    assert (preview.analysis.segments, preview.gsm_parts) == (2, 1)
    assert preview.analysis.non_gsm == ("ê",)


def test_unknown_expressions_are_listed():
    assert costing.preview("Bonjour <PRENOMS> <Nom>", add_stop=False).unknown == [
        "<PRENOMS>",
        "<Nom>",
    ]


def test_unknown_ids_are_not_recipients(clients):
    cost = costing.for_clients("Bonjour", [clients[0], 999_999], add_stop=False)
    assert cost.estimate.recipients == 1


def test_counting_by_groups_is_exact_on_awkward_names_and_templates():
    """The composer counts a campaign by groups of recipients, telling most texts' cost
    from the names' lengths (costing._Lengths): on names and templates chosen to trip it
    (escape characters and emoji around the parts' edges, empty names, punctuation,
    Unicode that proper case turns on or off), every figure is that of the texts
    rendered one by one."""
    import random

    from shopsms.sms import cost, encoding

    rng = random.Random(15)
    letters = [
        "A",
        "e",
        "é",
        "É",
        "è",
        "È",
        "ç",
        "Ç",
        "-",
        " ",
        "'",
        "€",
        "[",
        "🌸",
        "ß",
        "œ",
        ",",
        ".",
        "8",
        "ê",
        "x",
        "Y",
        "z",
        "\t",
    ]
    stems = [
        "<PRENOM> <NOM>",
        "<NOMPROPRE>",
        "<CIV> <PRENOM>",
        "<GEN> <NOMPROPRE> <PRENOM>",
        "<NOM>",
        "<MAGASIN> <PRENOM>",
        "<PRENOM><NOMPROPRE>",
    ]

    def name():
        if rng.random() < 0.5:
            return "".join(rng.choice("ABCDEFGHIJKL") for _ in range(rng.randrange(1, 14)))
        return "".join(rng.choice(letters) for _ in range(rng.randrange(0, 14)))

    bodies = [("x" * odd + "€" * pad + " <PRENOM> ", "") for odd in (0, 1) for pad in (76, 152)]
    for _ in range(150):
        body = rng.choice(["", "€ ", "Soldes ", "🌸 "]) + " "
        body += "".join(rng.choice("xxxxxxx€") for _ in range(rng.randrange(0, 300)))
        bodies.append((body, rng.choice(stems) + rng.choice(["", " !", " €", ", merci", " 8"])))
    for body, tail in bodies:
        body += tail
        contexts = [
            {
                "civility": rng.choice(["Madame", "M.", "", "Mlle"]),
                "first_name": name(),
                "last_name": name(),
                "store": rng.choice(["Biarritz", "Châtel", "Pau €"]),
            }
            for _ in range(12)
        ]
        groups = [(context, rng.randrange(1, 5), n) for n, context in enumerate(contexts)]
        one_by_one = [context for context, count, _ in groups for _ in range(count)]
        kept = tuple(groups)  # a draft's groups: their shapes kept between two keystrokes
        for add_stop in (True, False):
            for gsm_names in (False, True):
                for max_parts in (1, 3):
                    grouped = costing._weighted_estimate(
                        body, groups, add_stop, "36608", max_parts, gsm_names
                    )
                    expected = cost.estimate(
                        body,
                        one_by_one,
                        add_stop=add_stop,
                        max_parts=max_parts,
                        gsm_names=gsm_names,
                    )
                    assert grouped == expected, (body, contexts, add_stop, gsm_names)
                    again = costing._weighted_estimate(
                        body, kept, add_stop, "36608", max_parts, gsm_names
                    )
                    assert again == expected, (body, contexts, add_stop, gsm_names)
            # The card's Unicode: who is in it, and what names in GSM-7 would save.
            samples = {"over": [], "ucs2": [], "ucs2_count": 0, "card": True, "gsm_saving": 0}
            costing._weighted_estimate(body, groups, add_stop, "36608", 1, False, samples)
            ucs2, saving = 0, 0
            for context in one_by_one:
                text = cost.final_text(body, context, add_stop=add_stop)
                if not encoding.is_gsm(text):
                    ucs2 += 1
                    plain = cost.final_text(body, context, add_stop=add_stop, gsm_names=True)
                    saving += encoding.measure(text)[2] - encoding.measure(plain)[2]
            assert (samples["ucs2_count"], samples["gsm_saving"]) == (ucs2, saving)
