"""GSM 03.38 / UCS-2: what the composer shows and what the operator bills."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopsms.sms.encoding import GSM_BASIC, analyze, is_gsm, split, to_gsm

FRENCH_IN_TABLE = ["à", "é", "è", "ù", "É", "Ç", "ü"]
FRENCH_NOT_IN_TABLE = [
    *"âêëîïôûÿœçÀÂÈÊËÎÏÔŒÙÛŸ",
    "\u2019",  # ’
    "\u2018",  # ‘
    "\u201c",  # “
    "\u201d",  # ”
    "«",
    "»",
    "…",
    "–",
    "—",
    "\u00a0",  # no-break space
    "\u202f",  # narrow no-break space
    "\u2007",  # figure space
]
EXTENSION = ["€", "[", "]", "{", "}", "~", "^", "\\", "|", "\f"]


# --- the table itself ---------------------------------------------------------------


def test_basic_table_has_the_127_sendable_characters_of_gsm_03_38():
    assert len(GSM_BASIC) == len(set(GSM_BASIC)) == 127  # 128 codes minus ESC


@pytest.mark.parametrize("char", list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r "))
def test_published_basic_table_characters_are_one_septet(char):
    result = analyze(char * 160)
    assert (result.encoding, result.units, result.segments) == ("GSM-7", 160, 1)


def test_printable_ascii_is_gsm_except_backtick_and_extension_characters():
    ascii_printable = [chr(code) for code in range(0x20, 0x7F)]
    basic = [c for c in ascii_printable if c not in EXTENSION and c != "`"]
    assert all(analyze(c).units == 1 and analyze(c).encoding == "GSM-7" for c in basic)
    assert analyze("`").encoding == "UCS-2"
    assert analyze("`").non_gsm == ("`",)


@pytest.mark.parametrize("char", FRENCH_IN_TABLE)
def test_french_letters_in_the_basic_table_keep_gsm7(char):
    result = analyze(f"Votre montre {char} est prete")
    assert result.encoding == "GSM-7"
    assert result.non_gsm == ()
    assert is_gsm(char)


@pytest.mark.parametrize("char", FRENCH_NOT_IN_TABLE)
def test_french_characters_outside_the_table_force_ucs2(char):
    result = analyze(f"Bonjour{char}Madame")
    assert result.encoding == "UCS-2"
    assert result.non_gsm == (char,)
    assert result.units == 14
    assert not is_gsm(char)


@pytest.mark.parametrize("char", EXTENSION)
def test_extension_characters_cost_two_septets(char):
    result = analyze(f"a{char}b")
    assert (result.encoding, result.units, result.non_gsm) == ("GSM-7", 4, ())


def test_lower_case_c_cedilla_is_not_the_capital_of_the_table():
    assert analyze("Ça").encoding == "GSM-7"
    assert analyze("ça").encoding == "UCS-2"


def test_non_gsm_lists_offenders_once_in_order_of_first_appearance():
    text = "Être à l’hôtel, être prêt… l’été"
    assert analyze(text).non_gsm == ("Ê", "\u2019", "ô", "ê", "…")


def test_empty_text_has_no_part():
    result = analyze("")
    assert (result.encoding, result.units, result.segments, result.non_gsm) == (
        "GSM-7",
        0,
        0,
        (),
    )
    assert split("") == []


# --- GSM-7 boundaries ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(1, 1, 160), (160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153), (459, 3, 153)],
)
def test_gsm7_part_boundaries(length, segments, per_segment):
    result = analyze("a" * length)
    assert (result.units, result.segments, result.per_segment) == (
        length,
        segments,
        per_segment,
    )
    assert len(split("a" * length)) == segments


def test_euro_at_the_end_of_159_characters_makes_two_parts():
    result = analyze("a" * 159 + "€")
    assert (result.units, result.segments, result.per_segment) == (161, 2, 153)


def test_eighty_euros_fill_exactly_one_part():
    result = analyze("€" * 80)
    assert (result.units, result.segments) == (160, 1)
    assert analyze("€" * 81).segments == 2


def test_an_escape_pair_is_never_split_across_parts():
    # The euro would take septets 153 and 154: it moves whole to the second part.
    text = "a" * 152 + "€" + "b" * 10
    parts = split(text)
    assert parts == ["a" * 152, "€" + "b" * 10]
    assert analyze(text).segments == 2


def test_escape_pair_that_just_fits_stays_in_the_part():
    parts = split("a" * 151 + "€" + "b" * 10)
    assert parts == ["a" * 151 + "€", "b" * 10]


def test_pushed_escape_pairs_can_add_a_part():
    # 306 septets would fit two parts of 153, but a part holds only 76 euros (152
    # septets): counting units / 153 would undercharge by one credit.
    text = "€" * 153
    assert analyze(text).units == 306
    assert [len(p) for p in split(text)] == [76, 76, 1]
    assert analyze(text).segments == 3


# --- UCS-2 boundaries ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(70, 1, 70), (71, 2, 67), (134, 2, 67), (135, 3, 67)],
)
def test_ucs2_part_boundaries(length, segments, per_segment):
    result = analyze("ê" * length)
    assert (result.encoding, result.units, result.segments, result.per_segment) == (
        "UCS-2",
        length,
        segments,
        per_segment,
    )


def test_one_accent_turns_a_160_character_message_into_three_parts():
    assert analyze("a" * 159 + "e").segments == 1
    assert analyze("a" * 159 + "ê").segments == 3


def test_emoji_costs_two_units():
    result = analyze("Merci 😀")
    assert (result.encoding, result.units, result.non_gsm) == ("UCS-2", 8, ("😀",))


def test_thirty_five_emoji_fill_one_part_thirty_six_need_two():
    assert (analyze("😀" * 35).units, analyze("😀" * 35).segments) == (70, 1)
    assert [len(p) for p in split("😀" * 36)] == [33, 3]


def test_a_surrogate_pair_is_never_split_across_parts():
    # The emoji would take units 67 and 68: it moves whole to the second part.
    text = "ê" * 66 + "😀" + "ê" * 10
    assert analyze(text).units == 78
    assert split(text) == ["ê" * 66, "😀" + "ê" * 10]


def test_mixed_text_with_emoji_and_accents():
    text = "Bonjour Mme DUPONT, votre bague est prête ! 💍 Bijouterie Showroom"
    result = analyze(text)
    assert result.encoding == "UCS-2"
    assert result.non_gsm == ("ê", "💍")
    assert result.units == len(text) + 1
    assert result.segments == 1


# --- to_gsm -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("ê", "e"),
        ("ç", "c"),
        ("œ", "oe"),
        ("Œ", "OE"),
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("“", '"'),
        ("”", '"'),
        ("«", '"'),
        ("»", '"'),
        ("…", "..."),
        ("–", "-"),
        ("—", "-"),
        ("\u00a0", " "),
        ("\u202f", " "),
        ("\u2007", " "),
        ("À", "A"),
        ("Â", "A"),
        ("â", "a"),
        ("È", "E"),
        ("Ê", "E"),
        ("Ë", "E"),
        ("ë", "e"),
        ("Î", "I"),
        ("Ï", "I"),
        ("î", "i"),
        ("ï", "i"),
        ("Ô", "O"),
        ("ô", "o"),
        ("Ù", "U"),
        ("Û", "U"),
        ("û", "u"),
        ("Ÿ", "Y"),
        ("ÿ", "y"),
        ("`", "'"),
        ("\t", " "),
    ],
)
def test_to_gsm_replaces_by_the_closest_equivalent(source, expected):
    assert to_gsm(source) == expected


@pytest.mark.parametrize("char", ["É", "é", "è", "à", "ù", "Ç", "ü", "€", "{", "Ω", "\n"])
def test_to_gsm_keeps_gsm_characters(char):
    assert to_gsm(char) == char


def test_to_gsm_on_a_typical_french_message():
    text = (
        "Bonjour M.\u00a0Dupont, votre bague est prête ! «\u202fNoël\u202f» à l’hôtel… "
        "-20\u00a0% Bijouterie Showroom"
    )
    fixed = to_gsm(text)
    assert fixed == (
        'Bonjour M. Dupont, votre bague est prete ! " Noel " à l\'hotel... '
        "-20 % Bijouterie Showroom"
    )
    assert analyze(text).segments == 2
    assert analyze(fixed).segments == 1


def test_to_gsm_fallbacks():
    assert to_gsm("á í ó ú ã Ã") == "a i o u a A"  # NFKD drops the accent
    assert to_gsm("e\u0301te\u0301") == "été"  # decomposed accents recompose
    assert to_gsm("ﬁn ½") == "fin 1/2"
    assert to_gsm("zéro\u200blargeur") == "zérolargeur"  # invisible: dropped
    assert to_gsm("Merci 😀 ❤️") == "Merci ? ?"  # emoji: "?", variation selector dropped
    assert to_gsm("Ж") == "?"


# --- properties ---------------------------------------------------------------------

# Text that exercises both alphabets and both kinds of double character.
mixed_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aZ9 .\n€[]{}~^\\|\féèàùÉÇü")),
        st.sampled_from(FRENCH_NOT_IN_TABLE + ["😀", "💍", "𝄞"]),
        st.characters(codec="utf-8"),
    ),
    max_size=700,
)


@given(mixed_text)
def test_segments_are_the_parts_split_produces(text):
    result = analyze(text)
    parts = split(text)
    assert result.segments == len(parts)
    assert "".join(parts) == text
    assert all(parts)


def units_of(part, encoding):
    """Counted independently of the module: septets, or UTF-16 code units."""
    if encoding == "GSM-7":
        return len(part) + sum(part.count(c) for c in EXTENSION)
    return len(part.encode("utf-16-le")) // 2


@given(mixed_text)
def test_each_part_fits_its_limit(text):
    result = analyze(text)
    assert result.units == units_of(text, result.encoding)
    for part in split(text):
        assert units_of(part, result.encoding) <= result.per_segment


@given(mixed_text)
def test_to_gsm_always_gives_gsm7(text):
    fixed = to_gsm(text)
    assert analyze(fixed).encoding == "GSM-7"
    assert is_gsm(fixed)
    assert to_gsm(fixed) == fixed


@given(st.text(alphabet=st.sampled_from(list(GSM_BASIC) + EXTENSION), max_size=400))
def test_to_gsm_leaves_gsm_text_unchanged(text):
    assert to_gsm(text) == text
    assert analyze(text).encoding == "GSM-7"
