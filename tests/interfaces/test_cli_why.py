"""`psms why NUMBER`: the number's history in order, as text and as JSON, masked by default."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from proactive_sms.interfaces.cli import app
from tests.services import number_story
from tests.services.test_number_history import STORY_KINDS


@pytest.fixture
async def story(engine, bu, tmp_path, monkeypatch):
    told = await number_story.tell(engine, bu, tmp_path)
    monkeypatch.setenv("PSMS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return told


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["why", *args, "--bu", "sales"])
    assert result.exit_code == code, (args, result.output, result.exception)
    return result.output


async def test_why_tells_each_decision_in_order_as_json(story):
    out = json.loads(run(story.local, "--json"))
    assert [(e["kind"], e["skill"]) for e in out["events"]] == STORY_KINDS
    assert out["number"] == "+1******" + story.number[-4:] and out["masked"] is True
    assert story.number not in json.dumps(out)
    assert out["events"][3]["details"]["until"] == "2026-01-14T13:00:00+00:00"
    assert out["events"][7]["details"]["connection"] == "sim"


async def test_why_as_text_prints_one_line_per_decision(story):
    lines = run(story.number).splitlines()
    assert lines[0] == f"history of +1******{story.number[-4:]}:"
    assert len(lines) == 1 + len(STORY_KINDS)
    assert [line.split()[3] for line in lines[1:]] == [kind for kind, _ in STORY_KINDS]
    assert lines[1].startswith("2026-01-14 03:00:00 UTC  imported     imported into calling "
                               "list 'people' from line 2")
    assert "waited for the calling window until 2026-01-14T13:00:00+00:00" in lines[4]
    assert story.number not in "\n".join(lines)


async def test_show_numbers_reveals_them_and_skill_narrows(story):
    out = json.loads(run(story.number, "--json", "--show-numbers", "--skill", "shortie"))
    assert out["number"] == story.number and out["masked"] is False
    assert [e["kind"] for e in out["events"]] == ["imported", "skipped", "dnc_added",
                                                  "dnc_removed"]


async def test_a_number_nothing_is_known_of_and_bad_input(story):
    assert "nothing is known of +1******9999" in run("2125559999")
    result = CliRunner().invoke(app, ["why", "12ab", "--bu", "sales"])
    assert result.exit_code == 2 and "'12ab' is not a phone number" in result.output
    result = CliRunner().invoke(app, ["why", story.number, "--skill", "nope", "--bu", "sales"])
    assert result.exit_code == 2 and "no skill 'nope'" in result.output


async def test_a_records_history_is_its_numbers(story):
    by_record = json.loads(run("--list", "people", "--record", "C000000", "--json"))
    assert by_record == json.loads(run(story.number, "--json"))
    result = CliRunner().invoke(app, ["why", story.number, "--record", "C000000", "--bu",
                                      "sales"])
    assert result.exit_code == 2 and "give a NUMBER, or --list and --record" in result.output
