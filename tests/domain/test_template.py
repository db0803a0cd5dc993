"""Templates: parsing, validation against list fields, rendering, and RTL isolation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain import template as tpl
from proactive_sms.domain.direction import FSI, LRI, PDI
from proactive_sms.domain.template import MissingFieldError, TemplateError, Variable

LIST_FIELDS = ["FirstName", "LastName", "Balance", "Code", "Email", "BaseUrl", "Agent Name"]


def escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "pieces"),
    [
        ("", ()),
        ("Hello", ("Hello",)),
        ("Hi {FirstName}", ("Hi ", Variable("FirstName", 3))),
        ("{A}{B}", (Variable("A", 0), Variable("B", 3))),
        ("Hi { First Name }!", ("Hi ", Variable("First Name", 3), "!")),
        ("{first_name}", (Variable("first_name", 0),)),
        ("{{literal}}", ("{literal}",)),
        ("a {{ b }} {X} c}}", ("a { b } ", Variable("X", 10), " c}")),
        ("{{{X}}}", ("{", Variable("X", 2), "}")),
        ("Code {Code2}", ("Code ", Variable("Code2", 5))),
        ("{الاسم}", (Variable("الاسم", 0),)),  # field names may be in any script
    ],
)
def test_parse_splits_literal_text_and_variables(body: str, pieces: tuple) -> None:
    parsed = tpl.parse(body)
    assert parsed.pieces == pieces
    assert parsed.body == body


@pytest.mark.parametrize(
    ("body", "reason", "position", "field"),
    [
        ("Hi {First", "unclosed '{'", 3, None),
        ("{", "unclosed '{'", 0, None),
        ("{{ok}} and {oops", "unclosed '{'", 11, None),
        ("Hi {First, see {Code}", "unclosed '{'", 3, None),  # the first brace is what never closes
        ("Hi First}", "stray '}'", 8, None),
        ("}", "stray '}'", 0, None),
        ("{A}}", "stray '}'", 3, None),
        ("Hi {}", "empty field name", 3, None),
        ("Hi {   }", "empty field name", 3, None),
        ("{__}", "empty field name", 0, None),
        ("{a{b}}", "'{' inside a field name", 2, None),
        ("x {First{Name}}", "'{' inside a field name", 8, None),
        ("Hi {first-name}", "invalid character '-' in field name 'first-name'", 9, "first-name"),
        ("{a.b}", "invalid character '.' in field name 'a.b'", 2, "a.b"),
        ("{First\nName}", "invalid character '\\n' in field name 'First\\nName'", 6, "First\nName"),
    ],
)
def test_parse_errors_name_the_problem_and_its_exact_position(
    body: str, reason: str, position: int, field: str | None
) -> None:
    with pytest.raises(TemplateError) as caught:
        tpl.parse(body)
    error = caught.value
    assert (error.reason, error.position, error.field) == (reason, position, field)
    assert str(error).startswith(f"{reason} at position {position}")


def test_parse_error_hints_at_literal_braces() -> None:
    with pytest.raises(TemplateError, match=r"^stray '}' at position 4 \(write '}}' for a literal"):
        tpl.parse("50% }off")


@given(st.text())
def test_parse_either_succeeds_or_raises_template_error_inside_the_body(body: str) -> None:
    try:
        tpl.parse(body)
    except TemplateError as error:
        assert 0 <= error.position < len(body)
        # a brace, a field name, or an invisible character refused where it stands
        assert (body[error.position] in "{}" or error.field is not None
                or not body[error.position].isprintable())


# Any text a template may hold: no control characters or bidi controls (refused when typed).
_TYPABLE = st.text(alphabet=st.characters(
    blacklist_categories=("Cc", "Cs"),
    blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


@given(_TYPABLE)
def test_escaped_braces_round_trip_any_text(text: str) -> None:
    parsed = tpl.parse(escape(text))
    assert parsed.variables == ()
    assert tpl.render(parsed, {}) == text
    assert tpl.render(parsed, {}, "rtl") == text  # nothing to isolate without values


def test_variables_and_field_names_are_canonical_keys() -> None:
    parsed = tpl.parse("{First Name} {first_name} {LastName}")
    assert [v.name for v in parsed.variables] == ["First Name", "first_name", "LastName"]
    assert parsed.field_names == frozenset({"firstname", "lastname"})


@pytest.mark.parametrize(
    "name", ["FirstName", "first_name", "First Name", "FIRSTNAME", " first  name ", "First_Name"]
)
def test_field_key_ignores_case_spaces_and_underscores(name: str) -> None:
    assert tpl.field_key(name) == "firstname"


# --- validation ----------------------------------------------------------------------------------


def test_unknown_field_error_reads_with_position_and_suggestion() -> None:
    errors = tpl.validate(tpl.parse("Hi {FirstNme}"), LIST_FIELDS)
    assert [str(e) for e in errors] == [
        "unknown field 'FirstNme' at position 3 (did you mean FirstName?)"
    ]
    assert (errors[0].reason, errors[0].position, errors[0].field, errors[0].suggestion) == (
        "unknown field 'FirstNme'", 3, "FirstNme", "FirstName"
    )


def test_validate_reports_every_unknown_occurrence_in_order() -> None:
    body = "{Zip} {FirstName} {{Zip}} {zip} {Shoe Size}"
    errors = tpl.validate(tpl.parse(body), LIST_FIELDS)
    assert [(e.field, e.position, e.hint, e.suggestion) for e in errors] == [
        ("Zip", 0, None, None),
        ("zip", 26, None, None),
        ("Shoe Size", 32, None, None),
    ]
    assert all(body[e.position] == "{" for e in errors)


@pytest.mark.parametrize(
    "body", ["{firstname}", "{FIRST_NAME}", "{First Name}", "{agent_name}", "{AgentName}"]
)
def test_validate_matches_fields_case_and_space_blind(body: str) -> None:
    assert tpl.validate(tpl.parse(body), LIST_FIELDS + ["first_name"]) == []


# --- rendering -----------------------------------------------------------------------------------


def test_render_merges_values_looked_up_case_and_space_blind() -> None:
    parsed = tpl.parse("Hi {First Name}, you owe {BALANCE}. {{ref}}")
    values = {"first_name": "Ann", "balance": "$5", "unused": None}
    assert tpl.render(parsed, values) == "Hi Ann, you owe $5. {ref}"


@pytest.mark.parametrize(
    "values", [{}, {"FirstName": None}, {"FirstName": ""}, {"first_name": " "}]
)
def test_render_raises_missing_field_naming_the_field(values: dict) -> None:
    with pytest.raises(MissingFieldError) as caught:
        tpl.render(tpl.parse("Hi {First Name}"), values)
    assert caught.value.field == "First Name"
    assert str(caught.value) == "no value for field 'First Name'"


def test_render_accepts_non_string_values() -> None:
    assert tpl.render(tpl.parse("Owe {Balance}"), {"balance": 150}) == "Owe 150"  # type: ignore[dict-item]


def test_parsed_templates_compare_by_body_and_pieces() -> None:
    first, second = tpl.parse("Hi {A}"), tpl.parse("Hi {A}")
    assert first.field_names == frozenset({"a"})  # fills the cached properties of one only
    assert first == second and hash(first) == hash(second)


def test_render_prefers_the_non_blank_spelling_of_a_field() -> None:
    parsed = tpl.parse("Hi {FirstName}")
    assert tpl.render(parsed, {"first_name": "", "FirstName": "Ann"}) == "Hi Ann"


def test_render_rejects_unknown_direction() -> None:
    with pytest.raises(ValueError, match="unknown direction 'up'"):
        tpl.render(tpl.parse("x"), {}, "up")


# --- right-to-left -------------------------------------------------------------------------------

ARABIC_BODY = "مرحبا {FirstName}، رصيدك {Balance} ريال. الرمز {Code}"


def test_rtl_render_fences_only_the_values_that_would_be_reordered() -> None:
    # Latin name, decimal amount and code read the same in this Arabic sentence with or
    # without fences (tests/domain/test_bidi_marks.py proves the order): no control is added.
    values = {"FirstName": "John", "Balance": "150.25", "Code": "AB12"}
    rendered = tpl.render(tpl.parse(ARABIC_BODY), values, "rtl")
    assert rendered == "مرحبا John، رصيدك 150.25 ريال. الرمز AB12"


def test_rtl_render_fences_a_name_that_starts_the_text_and_a_phone_number() -> None:
    # Unfenced, "John" would make the paragraph left-to-right (a phone finds the direction from
    # the first strong letter) and "555-0100" after Arabic would read "0100-555".
    body = "{FirstName}، اتصل على {Phone} شكرا"
    rendered = tpl.render(tpl.parse(body), {"FirstName": "John", "Phone": "555-0100"}, "rtl")
    assert rendered == f"{FSI}John{PDI}، اتصل على {LRI}555-0100{PDI} شكرا"


def test_rtl_render_leaves_an_arabic_name_in_arabic_text_bare() -> None:
    rendered = tpl.render(tpl.parse("مرحبا {FirstName}"), {"FirstName": "محمد"}, "rtl")
    assert rendered == "مرحبا محمد"


def test_rtl_render_with_marks_off_fences_nothing() -> None:
    body = "{FirstName}، اتصل على {Phone}"
    values = {"FirstName": "John", "Phone": "555-0100"}
    assert tpl.render(tpl.parse(body), values, "rtl", marks="off") == \
        "John، اتصل على 555-0100"
    with pytest.raises(ValueError, match="bidi marks"):
        tpl.render(tpl.parse(body), values, "rtl", marks="all")


def test_rtl_render_fences_an_email_only_where_hebrew_would_move_it() -> None:
    rendered = tpl.render(tpl.parse("שלום, כתבו ל-{Email}"), {"Email": "help@x.co"}, "rtl")
    assert rendered == "שלום, כתבו ל-help@x.co"
    rendered = tpl.render(tpl.parse("{Email} :כתבו"), {"Email": "help@x.co"}, "rtl")
    assert rendered == f"{LRI}help@x.co{PDI} :כתבו"


@pytest.mark.parametrize(
    ("body", "values", "expected"),
    [
        # value continues a URL from the literal text before it
        ("رابطك: https://x.co/{Code} شكرا", {"Code": "AB12"}, "رابطك: https://x.co/AB12 شكرا"),
        # URL built from two values and literal text
        (
            "ادخل https://{Host}/{Code}",
            {"Host": "x.co", "Code": "7"},
            "ادخل https://x.co/7",
        ),
        # value starts a URL that the literal text continues
        ("ادخل {BaseUrl}/track", {"BaseUrl": "https://x.co"}, "ادخل https://x.co/track"),
        ("ادخل bit.ly/{Code}", {"Code": "3xYz"}, "ادخل bit.ly/3xYz"),
        # a value that is a whole URL by itself: controls sit outside the link
        (
            "{BaseUrl} ادخل",
            {"BaseUrl": "https://x.co/a"},
            f"{LRI}https://x.co/a{PDI} ادخل",
        ),
    ],
)
def test_rtl_render_never_puts_controls_inside_a_url(
    body: str, values: dict, expected: str
) -> None:
    assert tpl.render(tpl.parse(body), values, "rtl") == expected


def test_ltr_render_wraps_nothing_even_in_arabic_text() -> None:
    values = {"FirstName": "John", "Balance": "150.25", "Code": "AB12"}
    rendered = tpl.render(tpl.parse(ARABIC_BODY), values, "ltr")
    assert rendered == "مرحبا John، رصيدك 150.25 ريال. الرمز AB12"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (ARABIC_BODY, "rtl"),
        ("שלום {FirstName}", "rtl"),
        ("Hi {FirstName}, your code is {Code}", "ltr"),
        ("{FirstName} مرحبا", "rtl"),  # variables do not count, the author's words do
        ("{Code} 123", "ltr"),  # nothing strong: default to ltr
        ("", "ltr"),
    ],
)
def test_auto_direction_follows_the_literal_text(body: str, expected: str) -> None:
    assert tpl.resolve_direction(tpl.parse(body), "auto") == expected


@pytest.mark.parametrize("declared", ["ltr", "rtl", "RTL", " ltr "])
def test_declared_direction_wins_over_the_text(declared: str) -> None:
    assert tpl.resolve_direction(tpl.parse(ARABIC_BODY), declared) == declared.strip().lower()


def test_auto_render_isolates_in_arabic_and_not_in_english() -> None:
    values = {"FirstName": "John", "Phone": "555-0100"}
    assert tpl.render(tpl.parse("مرحبا {FirstName} {Phone}"), values, "auto") == \
        f"مرحبا John {LRI}555-0100{PDI}"
    assert tpl.render(tpl.parse("Hello {FirstName} {Phone}"), values, "auto") == \
        "Hello John 555-0100"


_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\u2066\u2067\u2068\u2069"),
    min_size=1,
).filter(str.strip)


@given(st.lists(_values, min_size=1, max_size=4))
def test_rtl_render_is_the_ltr_render_plus_balanced_isolates(values: list[str]) -> None:
    body = "مرحبا " + " و ".join(f"{{F{i}}}" for i in range(len(values)))
    parsed = tpl.parse(body)
    record = {f"F{i}": v for i, v in enumerate(values)}
    rtl = tpl.render(parsed, record, "rtl")
    stripped = tpl.render(parsed, {k: _strip_scopes(v) for k, v in record.items()}, "ltr")
    assert "".join(ch for ch in rtl if ch not in (LRI, FSI, PDI)) == stripped
    depth = 0
    for ch in rtl:
        depth += 1 if ch in (LRI, FSI) else -1 if ch == PDI else 0
        assert depth in (0, 1)
    assert depth == 0


def _strip_scopes(value: str) -> str:
    return "".join(ch for ch in value if not ("\u202a" <= ch <= "\u202e"))
