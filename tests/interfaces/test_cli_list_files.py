"""`psms list import` of list files as people have them: the fixtures imported with their
format reported, --delimiter and --encoding, and one clear line (exit 2) for a file that
cannot be read."""

from __future__ import annotations

import pytest

from proactive_sms.store import tenancy
from proactive_sms.store.engine import open_engine
from tests.interfaces.cli_runner import database_url, sales_cli
from tests.services.test_list_files import FIXTURE_CASES, FIXTURES, check_records


@pytest.fixture
def psms(tmp_path, monkeypatch):
    return sales_cli(tmp_path, monkeypatch)


def _bu(engine):
    with engine.connect() as conn:
        return tenancy.find_business_unit(conn, "sales")


@pytest.mark.parametrize("file_name", sorted(FIXTURE_CASES))
def test_each_real_world_file_imports_with_its_format_and_counts(psms, tmp_path, file_name):
    expected = FIXTURE_CASES[file_name]
    out = psms("list", "import", str(FIXTURES / file_name), "--name", "people")
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[expected.delimiter]
    assert f"file: {expected.encoding}, {delimiter}-separated" in out
    accepted = expected.rows - len(expected.rejected)
    assert f"{expected.rows} rows read, {accepted} accepted, {len(expected.rejected)} rejected" \
        in out
    for line in expected.rejected:
        assert f"│ {line} " in out  # the rejected row's line, in the table
    engine = open_engine(database_url(tmp_path))
    try:
        check_records(engine, _bu(engine), "people", expected)
    finally:
        engine.dispose()


def test_delimiter_and_encoding_options_override_the_detection(psms, tmp_path):
    path = tmp_path / "odd.csv"
    # "RenÃ©e" beside "Zoé" in Windows-1252: refused as mixed unless the encoding is named.
    path.write_bytes("Id:FirstName:PhoneNumber\r\n1:RenÃ©e:2125550100\r\n2:Zoé:2125550101\r\n"
                     .encode("cp1252"))
    refused = psms("list", "import", str(path), "--name", "odd", code=2)
    assert "mixes encodings: line 2 has UTF-8 text but line 3 has byte 0xe9" in refused
    assert "Traceback" not in refused
    out = psms("list", "import", str(path), "--name", "odd", "--delimiter", ":",
               "--encoding", "windows-1252")
    assert "file: Windows-1252, ':'-separated" in out and "2 accepted" in out


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--delimiter", "ab", "cannot be a delimiter: give one of , ; | or tab"),
    ("--encoding", "klingon", "not an encoding this import knows"),
])
def test_a_bad_delimiter_or_encoding_is_a_usage_error(psms, option, value, message):
    out = psms("list", "import", str(FIXTURES / "pipe_delimited.txt"), option, value, code=2)
    assert message in " ".join(out.replace("│", " ").split())


def test_a_file_no_encoding_can_read_is_one_clear_line_naming_the_byte_and_line(psms, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Id;PhoneNumber\r\n1;2125550100\r\n2;21255501\x8101\r\n")
    out = psms("list", "import", str(path), "--name", "bad", code=2)
    assert ("cannot read the file: it is not UTF-8, UTF-16 or Windows-1252 (byte 0x81 at "
            "line 3)") in " ".join(out.split())
