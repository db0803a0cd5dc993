"""The `psms` command line, run in-process on a real SQLite database."""

from __future__ import annotations

import json

import pytest

from tests.factories import person, us_number, write_csv
from tests.interfaces.cli_runner import sales_cli


@pytest.fixture
def psms(tmp_path, monkeypatch):
    return sales_cli(tmp_path, monkeypatch)


def test_import_reports_rejected_rows_and_writes_them(psms, tmp_path):
    rows = [person(1), person(2, PhoneNumber="12"), person(3)]
    path = write_csv(tmp_path / "people.csv", rows)
    out = psms("list", "import", str(path), "--name", "people", "--errors",
               str(tmp_path / "rejected.csv"))
    assert "2 accepted" in out and "1 rejected" in out
    assert "3" in out and "bad_number" in out  # line 3, with its reason
    assert "bad_number" in (tmp_path / "rejected.csv").read_text()


def test_a_file_that_is_not_a_list_is_refused_with_exit_code_2(psms, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    out = psms("list", "import", str(path), code=2)
    assert "empty" in out


def test_template_errors_name_the_problem_and_position(psms):
    out = psms("template", "add", "t", "--text", "Hi {FirstName", code=2)
    assert "position 3" in out and "unclosed" in out.lower()


def test_template_preview_json_reports_encoding_segments_and_offenders(psms):
    out = psms("template", "preview", "--text", "Café ☕ for {FirstName}", "--json")
    data = json.loads(out)
    assert data["encoding"] == "ucs2"
    assert data["segments"] == 1
    assert data["rendered"] == "Café ☕ for Alex"
    assert any("☕" in c for c in data["unicode_chars"])


def test_dnc_add_check_remove_export(psms, tmp_path):
    number = us_number(5)
    assert "1 number(s) added" in psms("dnc", "add", number, "not-a-number")
    assert "on DNC list(s): default" in psms("dnc", "check", number, code=1)
    exported = psms("dnc", "export")
    assert f"+1{number}" in exported and "manual" in exported
    psms("dnc", "remove", number)
    assert "not on any DNC list" in psms("dnc", "check", number)



def test_dnc_import_reports_each_bad_line_and_keeps_the_good_ones(psms, tmp_path):
    lines = ["Phone,Note", f"{us_number(1)},asked by phone", "not-a-number,x",
             f"({us_number(2)[:3]}) {us_number(2)[3:6]}-{us_number(2)[6:]},", "12,short",
             f"+1{us_number(1)},again"]
    path = tmp_path / "dnc.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = psms("dnc", "import", str(path), "--group", "complaints",
               "--errors", str(tmp_path / "bad.csv"))
    assert "2 number(s) added to list 'complaints', 1 already on it" in out
    assert "line 3 (number): 'not-a-number' is not a phone number\n" in out
    assert "line 5 (number): '12' is too short for a US number\n" in out
    rejected = (tmp_path / "bad.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[0] == "line,field,reason" and rejected[1].startswith("3,number,")
    assert [row.split(",")[0] for row in rejected[1:]] == ["3", "5"]
    assert "on DNC list(s): complaints" in psms("dnc", "check", us_number(2), code=1)
    exported = psms("dnc", "export", "--group", "complaints")
    assert "asked by phone" in exported and "imported from dnc.csv" in exported


def test_dnc_import_refuses_a_file_without_a_number_column(psms, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("Name,City\nAda,Paris\n", encoding="utf-8")
    out = psms("dnc", "import", str(path), code=2)
    assert "no number column" in out


def test_registration_validation(psms):
    out = psms("registration", "add", "55501", "--kind", "short", "--throughput", "0", code=2)
    assert "throughput" in out
    out = psms("registration", "add", "2025550143", "--kind", "long", "--throughput", "50",
               code=2)
    assert "0.1 to 5/s" in out
    psms("registration", "add", "2025550143", "--kind", "long", "--throughput", "5")
    assert "+12025550143" in psms("registration", "list")


def test_skill_create_start_and_report(psms, tmp_path):
    write_csv(tmp_path / "people.csv", [person(i) for i in range(10)])
    psms("list", "import", str(tmp_path / "people.csv"), "--name", "people")
    psms("registration", "add", "55501", "--kind", "short", "--throughput", "100")
    psms("dnc", "add", us_number(3))
    psms("campaign", "create", "spring")
    psms("skill", "create", "alert", "--registration", "55501", "--list", "people",
         "--campaign", "spring")
    out = psms("skill", "start", "alert", "--message", "Bonus shift open, {FirstName}!")
    assert "9 pending" in out and "dnc: 1" in out
    assert "already running" in psms("skill", "start", "alert", "--message", "again")
    report = json.loads(psms("report", "--campaign", "spring", "--json"))
    assert report["by_state"]["pending"] == 9
    assert report["skipped_by_reason"] == {"dnc": 1}
    csv_out = psms("report", "--skill", "alert", "--csv")
    assert "skipped,dnc,1" in csv_out
    psms("skill", "stop", "alert")
    assert json.loads(psms("report", "--skill", "alert", "--json"))["by_state"]["cancelled"] == 9


def test_start_with_unknown_field_is_refused(psms, tmp_path):
    write_csv(tmp_path / "people.csv", [person(1)])
    psms("list", "import", str(tmp_path / "people.csv"), "--name", "people")
    psms("registration", "add", "55501", "--kind", "short", "--throughput", "100")
    psms("skill", "create", "alert", "--registration", "55501", "--list", "people")
    out = psms("skill", "start", "alert", "--message", "Hi {Nickname}", code=2)
    assert "Nickname" in out and "position 3" in out


def test_registration_keywords_feed_classify_and_toll_free_refuses_texts(psms):
    psms("registration", "add", "55501", "--kind", "short", "--throughput", "100")
    psms("registration", "keywords", "55501", "--extra-opt-out", "توقف", "--sender-name", "Acme")
    out = psms("inbound", "classify", "توقف", "--registration", "55501", "--json")
    assert json.loads(out)["kind"] == "opt_out"
    assert json.loads(psms("inbound", "classify", "توقف", "--json"))["kind"] == "reply"
    psms("registration", "add", "8885550100", "--kind", "toll_free", "--throughput", "3")
    out = psms("registration", "keywords", "8885550100", "--opt-out-text", "Bye", code=2)
    assert "toll-free" in out


def test_skill_start_dry_run_writes_nothing(psms, tmp_path):
    write_csv(tmp_path / "people.csv", [person(i) for i in range(5)])
    psms("list", "import", str(tmp_path / "people.csv"), "--name", "people")
    psms("registration", "add", "55501", "--kind", "short", "--throughput", "100")
    psms("skill", "create", "alert", "--registration", "55501", "--list", "people")
    data = json.loads(psms("skill", "start", "alert", "--message", "Hi {FirstName}",
                           "--dry-run", "--json"))
    assert data["records"] == 5 and data["go_now"] + data["waiting"] == 5
    assert json.loads(psms("report", "--skill", "alert", "--json"))["total"] == 0


def test_a_list_whose_header_is_over_the_csv_field_limit_is_one_clear_line(psms, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b'"' + b"x" * 200_000 + b'",PhoneNumber\nC1,2125550123\n')
    out = psms("list", "import", str(path), "--name", "wide", code=2)
    assert "line 1 (the header) cannot be read as CSV" in out and "Traceback" not in out


def test_a_dnc_file_with_a_bad_byte_far_in_is_refused_whole(psms, tmp_path):
    path = tmp_path / "dnc.csv"
    numbers = [f"+1212555{n:04d}" for n in range(6000)]
    # 0x81 is no character of UTF-8 or Windows-1252: the file cannot be read at all.
    path.write_bytes(("number\n" + "\n".join(numbers) + "\n").encode() + b"caf\x81\n")
    out = psms("dnc", "import", str(path), "--group", "late", code=2)
    assert "not UTF-8" in out and "line 6002" in out
    assert "not on any DNC list" in psms("dnc", "check", numbers[0])
