"""`psms inbound classify`, run in-process on the sub-app (no database involved)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from proactive_sms.domain.keywords import KeywordSet
from proactive_sms.interfaces.cli.inbound import app, describe

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (args, result.output, result.exception)
    return result.output


def test_classify_prints_kind_reason_matched_and_language() -> None:
    out = run("classify", "Stop. Thank you")
    assert out.splitlines() == [
        "kind:     opt_out",
        "reason:   exact keyword STOP with 'thank you'",
        "matched:  STOP",
        "language: en",
    ]


def test_classify_of_a_plain_reply_shows_dashes_for_what_did_not_match() -> None:
    out = run("classify", "See you at the end of the week")
    assert "kind:     reply" in out and "matched:  -" in out and "language: -" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arrêt", {"kind": "opt_out", "reason": "French keyword 'ARRÊT'", "matched": "ARRÊT",
                   "language": "fr"}),
        ("I will stop by the store tomorrow to pay",
         {"kind": "possible_opt_out", "reason": "contains 'stop' in a longer message",
          "matched": "stop", "language": "en"}),
        ("YES", {"kind": "opt_in", "reason": "exact keyword YES", "matched": "YES",
                 "language": "en"}),
        ("Stopwatch", {"kind": "reply", "reason": "no keyword, revocation phrase or opt-out "
                       "signal", "matched": None, "language": None}),
    ],
)
def test_classify_json_prints_one_object_with_the_four_fields(text, expected) -> None:
    assert json.loads(run("classify", text, "--json")) == expected


def test_a_text_that_starts_with_a_dash_is_passed_after_double_dash() -> None:
    assert json.loads(run("classify", "--json", "--", "-STOP-"))["kind"] == "opt_out"


def test_classify_without_a_text_is_a_usage_error() -> None:
    assert "Missing argument" in run("classify", code=2)


def test_describe_passes_registration_words_through_to_the_classifier() -> None:
    extra = KeywordSet.from_dict({"opt_out": ["إلغاء"]})
    assert json.loads(describe("إلغاء!", extra, as_json=True)) == {
        "kind": "opt_out", "reason": "registration keyword 'إلغاء'", "matched": "إلغاء",
        "language": "ar"}
    assert json.loads(describe("إلغاء!", None, as_json=True))["kind"] == "reply"
