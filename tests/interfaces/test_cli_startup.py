"""`psms` starts without the libraries its light commands do not need (issue 17).

Correctness, not speed: a command module that imports SQLAlchemy, Alembic, FastAPI or uvicorn at
its top makes every `psms` invocation pay for them, and this test names the module that did.
The time itself is measured by bench/cli_startup.py, never here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import proactive_sms

# Runs `psms ARGS` in a fresh interpreter, then prints which heavy modules it had imported.
_PROBE = """
import json, sys
from proactive_sms.interfaces.cli import app
try:
    app(sys.argv[1:], prog_name="psms")
except SystemExit as exit_:
    code = exit_.code
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"sqlalchemy", "alembic", "fastapi",
               "starlette", "uvicorn", "httpx", "jinja2"} or m.startswith(
               ("proactive_sms.interfaces.api", "proactive_sms.interfaces.web",
                "proactive_sms.store.engine")))
print("\\n" + json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""

SRC = str(Path(proactive_sms.__file__).parent.parent)


def _psms(*args: str, cwd: Path) -> tuple[int, list[str], str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PSMS_DATABASE_URL": f"sqlite:///{cwd / 'psms.db'}"}
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["heavy"], done.stdout


@pytest.mark.parametrize("args", [
    ("--help",),
    ("--version",),
    ("skill", "--help"),
    ("dnc", "--help"),
    ("template", "preview", "--text", "Hi {FirstName}, bonus shift tonight"),
    ("inbound", "classify", "STOP please"),
])
def test_light_commands_import_no_database_or_web_stack(args, tmp_path):
    code, heavy, _ = _psms(*args, cwd=tmp_path)
    assert code in (0, None), args
    assert heavy == [], f"psms {' '.join(args)} imported {heavy}"
    assert not (tmp_path / "psms.db").exists()  # nor created a database


def test_a_database_command_imports_no_web_stack(tmp_path):
    code, _, _ = _psms("init", "--bu", "sales", cwd=tmp_path)
    assert code in (0, None)
    code, heavy, out = _psms("dnc", "check", "2125550143", cwd=tmp_path)
    assert code in (0, None) and "not on any DNC list" in out
    web = [m for m in heavy if not m.startswith(("sqlalchemy", "alembic",
                                                  "proactive_sms.store.engine"))]
    assert web == [], f"psms dnc check imported {web}"


def test_version_names_the_package_version(tmp_path):
    code, _, out = _psms("--version", cwd=tmp_path)
    assert code in (0, None)
    assert out.strip() == f"psms {proactive_sms.__version__}"


def test_help_documents_the_exit_codes(tmp_path):
    _, _, out = _psms("--help", cwd=tmp_path)
    text = " ".join(out.split())
    assert "Exit codes: 0 done; 1 failed" in text and "2 usage or bad input" in text
