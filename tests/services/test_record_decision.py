"""The decision for one record (services.record_decision), shared by launch, the cadence walk
and the dry run: its rules, and that it is the one module those use."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

from proactive_sms.domain import template
from proactive_sms.domain.message_states import MessageState
from proactive_sms.services.record_decision import Decider, MessageText
from proactive_sms.store.messages import destination_key

SERVICES = Path(__file__).resolve().parents[2] / "src" / "proactive_sms" / "services"


def _imports(module: str) -> set[str]:
    """Every module name `services/<module>.py` imports, at top level or inside functions."""
    tree = ast.parse((SERVICES / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_launching_and_the_cadence_walk_do_not_import_each_other():
    walk = _imports("cadence_walk")
    assert not any("services.launching" in name for name in walk)
    assert not any("services.launching" in name for name in _imports("cadences"))
    assert not any("services.cadence_walk" in name for name in _imports("launching"))
    assert "proactive_sms.services.record_decision" in walk


def test_nothing_reaches_for_a_private_decider():
    for path in SERVICES.rglob("*.py"):
        assert "_Decider" not in path.read_text(), path


class _Record(NamedTuple):
    id: int
    sms_destination: str | None
    sms_problem: str | None = None
    expiration_date: date | None = None
    on_dnc: bool = False
    fields: str | dict | None = None


def _decider(body: str, max_segments: int = 2, seen: set | None = None) -> Decider:
    parsed = template.parse(body)
    text = MessageText(parsed, template.resolve_direction(parsed, "auto"), False)
    return Decider(SimpleNamespace(max_segments=max_segments), text,  # type: ignore[arg-type]
                   set() if seen is None else seen, date(2026, 3, 4))


def test_a_record_is_a_pending_text_with_its_encoding_and_segments():
    decision = _decider("Hi {FirstName}").decide(_Record(7, "+12125550100",
                                                         fields={"FirstName": "Zoë"}))
    assert decision.state is MessageState.PENDING
    assert (decision.record_id, decision.body, decision.segments) == (7, "Hi Zoë", 1)
    assert decision.encoding in ("gsm7", "ucs2")


def test_each_skip_reason_in_its_order():
    decider = _decider("Hi {FirstName}", max_segments=1)
    cases = {
        "expired": _Record(1, "+12125550101", expiration_date=date(2026, 3, 3),
                           fields={"FirstName": "A"}),
        "no_mobile_number": _Record(2, None),
        "invalid_number": _Record(3, None, sms_problem="invalid_number"),
        "dnc": _Record(4, "+12125550104", on_dnc=True, fields={"FirstName": "A"}),
        "missing_field": _Record(5, "+12125550105", fields={"FirstName": " "}),
        "too_long": _Record(6, "+12125550106", fields={"FirstName": "x" * 200}),
    }
    for reason, record in cases.items():
        decision = decider.decide(record)
        assert decision.state is MessageState.SKIPPED, reason
        assert decision.skip_reason == reason


def test_a_number_already_given_a_text_is_a_duplicate_and_a_skip_does_not_count():
    seen = {destination_key("+12125550100")}
    decider = _decider("Hello", seen=seen)
    assert decider.decide(_Record(1, "+12125550100")).skip_reason == "duplicate_destination"
    assert decider.decide(_Record(2, "+12125550200", on_dnc=True)).skip_reason == "dnc"
    assert decider.decide(_Record(3, "+12125550200")).state is MessageState.PENDING
    assert decider.decide(_Record(4, "+12125550200")).skip_reason == "duplicate_destination"
