"""The STOP mention's room: a marketing text of one SMS keeps 149 of its 160 characters."""

from shopsms.sms.stop import room, stop_mention, with_stop


def test_the_mention_leaves_149_characters_of_a_one_sms_text():
    assert 160 - room(stop_mention()) == 149
    assert len(with_stop("x" * 149)) == 160
