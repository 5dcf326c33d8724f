"""The fast path for French mobiles gives exactly what phonenumbers would have said."""

from hypothesis import given, settings
from hypothesis import strategies as st

from shopsms.sms import phones

PREFIXES = st.sampled_from(["0", "+33", "0033", "+33 ", "0033 ", "+330", "33", "00 33 "])
SEPARATORS = st.sampled_from(["", " ", ".", "-", "  ", " - "])


@st.composite
def french_numbers(draw):
    """Mostly 06/07 numbers, but any 9 digits (landlines, 09, overseas 069x, too short or
    too long ones) so that the fast path's refusals are checked as well."""
    first = draw(st.sampled_from("67" * 4 + "123459"))
    rest = draw(st.text("0123456789", min_size=7, max_size=9))
    digits = first + rest
    separator = draw(SEPARATORS)
    pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
    return draw(PREFIXES) + separator.join(pairs)


@settings(max_examples=3000, deadline=None)
@given(french_numbers())
def test_fast_and_slow_paths_agree(raw):
    text = raw.strip()
    slow = phones._classify_slow(text, "FR")
    fast = phones._fast_french_mobile(text)
    if fast is not None:
        assert (slow.kind, slow.e164, slow.region) == (phones.MOBILE, fast, "FR"), raw
    assert phones.classify(raw) == slow


def test_the_fast_path_takes_the_common_forms():
    for raw in ("06 12 34 56 78", "06.12.34.56.78", "+33 7 81 22 33 44", "0033612345678"):
        assert phones._fast_french_mobile(raw) is not None, raw
    for raw in ("0690 12 34 56", "05 59 24 00 00", "+33 (0)6 12 34 56 78", "0639 01 23 45"):
        assert phones._fast_french_mobile(raw) is None, raw


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from("67"), st.text("0123456789", min_size=8, max_size=8))
def test_stored_mobiles_read_as_display_writes_them(first, rest):
    e164 = "+33" + first + rest
    formatted = phones.display(e164)
    if formatted.startswith("0"):  # a metropolitan number for phonenumbers too
        assert phones.display_stored(e164) == formatted


def test_stored_numbers_of_elsewhere_stay_as_stored():
    assert phones.display_stored("+33612345678") == "06 12 34 56 78"
    assert phones.display_stored("+590690123456") == "+590690123456"
    assert phones.display_stored("+3361234567") == "+3361234567"
    assert phones.display_stored("") == ""
