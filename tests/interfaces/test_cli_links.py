"""`psms bu set --link-domain` and the report's click figures on the command line."""

from __future__ import annotations

import json

import pytest

from tests.interfaces.cli_runner import sales_cli


@pytest.fixture
def psms(tmp_path, monkeypatch):
    return sales_cli(tmp_path, monkeypatch)


def test_the_link_domain_is_set_shown_and_cleared(psms):
    out = psms("bu", "set", "--link-domain", "go.example.com")
    assert "https://go.example.com" in out
    assert json.loads(psms("bu", "show", "--json"))["link_domain"] == "https://go.example.com"
    psms("bu", "set", "--no-link-domain")
    assert json.loads(psms("bu", "show", "--json"))["link_domain"] is None


def test_a_link_domain_with_a_path_is_refused(psms):
    out = psms("bu", "set", "--link-domain", "https://go.example.com/x", code=2)
    assert "host name only" in out
