"""STOP mention and the exact cost of a sending, recipient by recipient."""

from decimal import Decimal

import pytest

from shopsms.sms import cost
from shopsms.sms.cost import estimate, final_text
from shopsms.sms.encoding import analyze
from shopsms.sms.stop import DEFAULT_SHORT_CODE, stop_mention, with_stop

# --- STOP ---------------------------------------------------------------------------


def test_default_mention():
    assert DEFAULT_SHORT_CODE == "36608"
    assert stop_mention() == "STOP 36608"
    assert stop_mention("38100") == "STOP 38100"


def test_mention_on_its_own_line():
    assert with_stop("Soldes -20% ce week-end", "36608") == "Soldes -20% ce week-end\nSTOP 36608"


def test_with_stop_leaves_149_characters_in_one_sms():
    assert analyze(with_stop("a" * 149, "36608")).segments == 1
    assert analyze(with_stop("a" * 150, "36608")).segments == 2


def test_trailing_blank_lines_do_not_cost_a_character():
    assert with_stop("Soldes !\n\n  ", "36608") == "Soldes !\nSTOP 36608"
    assert with_stop("", "36608") == "STOP 36608"


def test_mention_typed_by_the_user_is_not_doubled():
    assert with_stop("Soldes !\nSTOP 36608", "36608") == "Soldes !\nSTOP 36608"


def test_empty_short_code_is_refused():
    with pytest.raises(ValueError):
        stop_mention(" ")


# --- final text ---------------------------------------------------------------------

JEAN = {"civility": "Monsieur", "first_name": "JEAN", "last_name": "DUPONT"}


def test_final_text_renders_then_appends_stop():
    assert final_text("Bonjour <NOM>", JEAN, add_stop=True, short_code="36608") == (
        "Bonjour M. JEAN DUPONT\nSTOP 36608"
    )
    assert final_text("Bonjour <NOM>", JEAN, add_stop=False) == "Bonjour M. JEAN DUPONT"


def test_final_text_turns_browser_line_breaks_into_one_character():
    assert final_text("Bonjour\r\n<MAGASIN>", {"store": "Showroom"}, add_stop=False) == (
        "Bonjour\nShowroom"
    )


# --- estimate -----------------------------------------------------------------------


def client(first, last="DUPONT", civility="Monsieur", **rest):
    return {"civility": civility, "first_name": first, "last_name": last, **rest}


def test_credits_count_each_recipient_final_text():
    template = "a" * 130 + " <PRENOM>"  # 131 + name + 11 (STOP line)
    contexts = [client("Jo"), client("Maximilien"), client("Anne-Charlotte-Eugénie")]
    result = estimate(template, contexts, add_stop=True)
    # 144, 152: one part each. 164: two parts.
    assert result.recipients == 3
    assert result.credits == 4
    assert result.by_parts == {1: 2, 2: 1}
    assert result.over_limit == 1
    assert result.over_by == 4
    assert result.longest_parts == 2
    assert result.longest_text.endswith("Anne-Charlotte-Eugénie\nSTOP 36608")


def test_a_name_with_an_accent_outside_the_table_switches_that_recipient_to_ucs2():
    template = "Bonjour <PRENOM>, nos soldes commencent demain en magasin. <MAGASIN>"
    contexts = [client("Jean", store="Showroom"), client("Hélène", store="Showroom")]
    result = estimate(template, contexts, add_stop=True)
    assert (result.ucs2, result.credits) == (0, 2)  # è and é are in the table
    result = estimate(template, [client("Jérôme", store="Showroom")], add_stop=True)
    text = "Bonjour Jérôme, nos soldes commencent demain en magasin. Showroom\nSTOP 36608"
    assert result.longest_text == text
    assert (result.ucs2, result.credits, result.over_by) == (1, 2, len(text) - 70)


def test_stop_changes_the_cost():
    contexts = [client("Jean")] * 10
    template = "a" * 150
    assert estimate(template, contexts, add_stop=False).credits == 10
    assert estimate(template, contexts, add_stop=True).credits == 20


def test_max_parts_allows_longer_texts():
    contexts = [client("Jean")]
    template = "a" * 300
    assert estimate(template, contexts, add_stop=False, max_parts=2).over_limit == 0
    result = estimate(template, contexts, add_stop=True, max_parts=2)
    assert (result.over_limit, result.over_by) == (1, 311 - 306)


def test_a_pushed_escape_pair_counts_as_over_even_at_exact_capacity():
    # 306 septets fit two parts on paper, but 153 euros need three.
    result = estimate("€" * 153, [{}], add_stop=False, max_parts=2)
    assert (result.credits, result.over_limit, result.over_by) == (3, 1, 1)


def test_short_code_setting_is_used():
    result = estimate("a" * 149, [{}], add_stop=True, short_code="123456")
    assert result.longest_text == "a" * 149 + "\nSTOP 123456"
    assert result.credits == 2  # 161 septets: one more digit than the default code
    assert estimate("a" * 149, [{}], add_stop=True).credits == 1


def test_no_recipient():
    result = estimate("Bonjour <NOM>", [], add_stop=True)
    assert (result.credits, result.recipients, result.by_parts, result.over_by) == (0, 0, {}, 0)
    assert (result.longest_text, result.longest_parts) == ("", 0)


def test_contexts_can_be_a_generator():
    result = estimate("Bonjour <PRENOM>", (client(str(i)) for i in range(5)), add_stop=False)
    assert (result.recipients, result.credits) == (5, 5)


def test_estimate_agrees_with_analyze_on_every_text():
    template = "Bonjour <NOM>, votre réparation <NUM> : <MONTANT>. <MAGASIN> 😀"
    contexts = [
        client("J" * n, number=str(n), amount=Decimal(n) * 7, store="Showroom")
        for n in range(0, 120, 7)
    ]
    result = estimate(template, contexts, add_stop=True)
    parts = [
        analyze(final_text(template, c, add_stop=True, short_code="36608")).segments
        for c in contexts
    ]
    assert result.credits == sum(parts)
    assert result.by_parts == {p: parts.count(p) for p in sorted(set(parts))}


def test_one_hundred_thousand_recipients_in_well_under_three_seconds():
    # Fixed-width values: "M." gives exactly 160 septets (euro sign counted twice),
    # "Mme" one more, no civility three fewer.
    template = (
        "Bonjour <NOM>, votre réparation <NUM> est disponible chez <MAGASIN>. "
        "Reste à régler : <MONTANT>. A très bientot à la boutique !"
    )
    contexts = [
        {
            "civility": ("Monsieur", "Madame", "")[i % 3],
            "first_name": f"P{i:06d}",
            "last_name": f"N{i % 5000:04d}",
            "store": "Bijouterie Showroom",
            "number": str(100_000 + i),
            "amount": Decimal(100 + i % 800) + Decimal("0.90"),
        }
        for i in range(100_000)
    ]
    # How fast this runs is measured by bench/sms_cost.py, not asserted here.
    result = estimate(template, contexts, add_stop=True)
    assert result.recipients == 100_000
    assert result.by_parts == {1: 66_667, 2: 33_333}  # the "Mme" clients go over
    assert (result.credits, result.over_limit, result.over_by) == (133_333, 33_333, 1)


@pytest.mark.parametrize(
    "first, last",
    [
        ("Jean", "DUPONT"),
        ("françoise", "LÈBRE"),
        ("Zoé 🌸", "O'NEIL-D'ARC"),
        ("", "Li"),
        ("JEAN-ÉLODIE", "ÈVE [€]"),
        (" Inès ", "DE LA FONTAINE"),
        ("ÇA", "ÿves"),
        ("Luc.", "X,Y"),
    ],
)
def test_a_cards_shape_costs_what_the_card_costs(first, last):
    """The composer counts a draft by shapes of cards: in every expression, with or
    without the names in GSM-7, at every length around the parts' edges, the text of the
    shape is measured as the card's."""
    from shopsms.sms.encoding import measure

    card = {"civility": "Madame", "first_name": first, "last_name": last, "store": "Biarritz"}
    shaped = dict(card, first_name=cost.shape(first), last_name=cost.shape(last))
    assert cost.shape("Jean") == cost.shape("LUCA") == "AAAA"
    for pad in range(120, 170):
        for template in ("<NOM>", "<PRENOM> <NOMPROPRE> !", "<CIV> <PRENOM>, <NOM>"):
            body = "x" * pad + " " + template
            for gsm_names in (False, True):
                texts = [
                    cost.final_text(body, c, add_stop=True, gsm_names=gsm_names)
                    for c in (card, shaped)
                ]
                assert measure(texts[0]) == measure(texts[1]), (body, gsm_names)
