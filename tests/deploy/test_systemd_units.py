"""The systemd units of deploy/ (documented in docs/deploy.md): `systemd-analyze verify` finds
nothing to say about them (where systemd is installed), each runs a psms command whose options
exist, and the example environment file names only settings the code reads."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proactive_sms.interfaces.cli.root import app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))
INSTALLED_PSMS = "/opt/psms/.venv/bin/psms"  # where the units expect the installation


def _unit(path: Path) -> configparser.ConfigParser:
    # systemd allows a key more than once (EnvironmentFile=): keep them all.
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       dict_type=_MultiDict)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


class _MultiDict(dict):
    def __setitem__(self, key, value):
        if isinstance(value, list) and key in self:
            self[key].extend(value)  # a repeated key: its values are kept side by side
            return
        super().__setitem__(key, value)


def test_the_units_are_there():
    assert {u.name for u in UNITS} == {"psms-serve.service", "psms-dispatch@.service",
                                       "psms-migrate.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_runs_a_psms_command_whose_options_exist(unit):
    service = _unit(unit)["Service"]
    command = shlex.split(service["ExecStart"].replace("%H", "host").replace("%i", "1"))
    assert command[0] == INSTALLED_PSMS
    _parse(command[1:])
    assert service["EnvironmentFile"].splitlines()[0] == "/etc/psms/psms.env"
    assert service["User"] == "psms"


def _parse(args: list[str]) -> None:
    """The command line as psms parses it: with --help last, an unknown command or option is
    a usage error (exit code 2) and a known one prints the help (0), running nothing."""
    done = CliRunner().invoke(app, [*args, "--help"])
    assert done.exit_code == 0, f"psms {' '.join(args)}: {done.output}"


def test_an_unknown_option_in_a_unit_would_be_caught():
    with pytest.raises(AssertionError, match="No such option"):
        _parse(["dispatch", "--no-such-option", "5"])
    with pytest.raises(AssertionError):
        _parse(["database", "upgrade"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_finds_nothing(tmp_path):
    psms = Path(sys.executable).parent / "psms"  # verify wants ExecStart's program to exist
    assert psms.exists()
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED_PSMS, str(psms)))
        copies.append(copy)
    instance = tmp_path / "psms-dispatch@1.service"  # a template is checked as an instance
    instance.write_text((tmp_path / "psms-dispatch@.service").read_text())
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, copies),
                           str(instance)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == "", done.stderr


def test_the_example_environment_names_only_settings_the_code_reads():
    source = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    names = re.findall(r"^(PSMS_[A-Z_]+)=", (DEPLOY / "psms.env.example").read_text(),
                       re.MULTILINE)
    assert "PSMS_DATABASE_URL" in names and "PSMS_SECRET_KEY" in names
    unread = [n for n in names if f'"{n}"' not in source]
    assert not unread, unread
