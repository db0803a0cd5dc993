"""Property: parse, validate and render take any body, field list and record, and either work or
raise our own errors (TemplateError, MissingFieldError, and ValueError naming a bad direction);
nothing else ever escapes. Bodies are drawn brace-heavy, where the parser's edge cases are."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_sms.domain import template as tpl
from proactive_sms.domain.template import MissingFieldError, TemplateError

_PIECES = st.one_of(
    st.sampled_from(["{", "}", "{{", "}}", "{FirstName}", "{ first name }", "{First_Name}",
                     "{}", "{ }", "{a{b}", "{a}}", "{{a}", "https://x.y/{Code}", "مرحبا ",
                     "\u202e", "\u200b", "\x00", "\n", "😀", "{Prénom}", "{\ud800}"]),
    st.text(max_size=8),
)
_BODIES = st.one_of(st.text(), st.lists(_PIECES, max_size=12).map("".join))
_NAMES = st.lists(st.one_of(st.sampled_from(["FirstName", "first name", "Code", "Prénom", ""]),
                            st.text(max_size=10)), max_size=5)
_RECORDS = st.dictionaries(st.one_of(st.sampled_from(["FirstName", "code", "a", ""]),
                                     st.text(max_size=10)),
                           st.one_of(st.none(), st.text(max_size=20)), max_size=5)
_DIRECTIONS = st.sampled_from(["ltr", "rtl", "auto", " RTL ", "up", ""])


@given(_BODIES, _NAMES, _RECORDS, _DIRECTIONS)
@example("{FirstName", [], {}, "ltr")
@example("Hi {FirstName}", ["FirstName"], {"firstname": " "}, "rtl")
@example("مرحبا {FirstName} https://x.y/{FirstName}", ["FirstName"], {"FirstName": "Ann"}, "auto")
def test_parse_validate_render_raise_only_our_errors(
    body: str, names: list[str], record: dict[str, str | None], direction: str
) -> None:
    try:
        parsed = tpl.parse(body)
    except TemplateError as error:
        assert 0 <= error.position < len(body) and error.reason
        return
    errors = tpl.validate(parsed, names)
    assert all(isinstance(e, TemplateError) and 0 <= e.position < len(body) for e in errors)
    try:
        text = tpl.render(parsed, record, direction)
    except MissingFieldError as missing:
        assert missing.field in {v.name for v in parsed.variables}
        return
    except ValueError as bad_direction:
        assert direction.strip().lower() not in tpl.DIRECTIONS
        assert "direction" in str(bad_direction)
        return
    assert isinstance(text, str)
    if not parsed.variables:
        assert text == parsed.literal_text
