"""The cheap forms the store uses on its bulk paths are exactly the ones they stand in for."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_sms.store.calling_lists import fields_json
from proactive_sms.store.messages import destination_key


@given(st.dictionaries(st.text(), st.text()))
@example({"FirstName": "Zoë", "Note": 'say "hi"\n\\', "Emoji": "😀", "Lone": "\udc80"})
def test_fields_json_is_json_dumps(fields: dict[str, str]) -> None:
    assert fields_json(fields) == json.dumps(fields)


@given(st.dictionaries(st.text(), st.one_of(st.text(), st.integers(), st.none())))
def test_fields_json_of_other_values_is_json_dumps_too(fields: dict) -> None:
    assert fields_json(fields) == json.dumps(fields)


E164 = st.builds(lambda cc, rest: f"+{cc}{rest}", st.integers(1, 999),
                 st.text(alphabet="0123456789", max_size=12))


@given(st.lists(st.one_of(E164, st.text(max_size=16)), max_size=30))
@example(["+12125550123", "12125550123", "+012125550123", "+", "", "+١٢٣", "+1 212"])
def test_destination_keys_are_equal_exactly_when_the_destinations_are(destinations):
    for a in destinations:
        for b in destinations:
            assert (destination_key(a) == destination_key(b)) == (a == b)


def test_an_e164_number_is_kept_as_an_int() -> None:
    assert destination_key("+12125550123") == 12125550123
    assert destination_key("+447700900123") == 447700900123
