"""Secrets at rest: carrier passwords and webhook secrets are sealed in the database with a key kept
outside it (created 0600 beside a SQLite file), the SQLite file itself is 0600, plain values of an
older database are sealed by the migration, and `psms secrets rotate` reseals everything with a
new key while the old one still opens what is not yet done."""

from __future__ import annotations

import os
import stat

import pytest
from alembic import command
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text
from typer.testing import CliRunner

from proactive_sms.domain.clock import SystemClock
from proactive_sms.interfaces.cli.root import app
from proactive_sms.services import administration, secrets, webhooks
from proactive_sms.store import engine as store_engine
from proactive_sms.store import secret_box
from proactive_sms.store.engine import open_engine

URL_HOOK = "https://hooks.example.com/psms"


@pytest.fixture(autouse=True)
def _keys_beside_the_database(monkeypatch):
    monkeypatch.delenv(secret_box.KEY_ENV, raising=False)
    monkeypatch.delenv(secret_box.KEY_FILE_ENV, raising=False)


def _raw(engine) -> tuple[str, str]:
    with engine.connect() as conn:
        password = conn.execute(text("SELECT password FROM carrier_connection")).scalar_one()
        secret = conn.execute(text("SELECT secret FROM webhook_endpoint")).scalar_one()
    return password, secret


def _world(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'psms.db'}")
    clock = SystemClock()
    bu = administration.init(engine, clock, "acme", "sales", "US")
    administration.add_connection(engine, bu, clock, "carrier", "127.0.0.1", 2775, "psms",
                                  "s3cret!")
    secret = webhooks.set_endpoint(engine, bu, clock, URL_HOOK).secret
    return engine, bu, secret


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_sealed_in_the_database_and_open_through_the_store(tmp_path):
    engine, bu, secret = _world(tmp_path)
    password, stored_secret = _raw(engine)
    assert password.startswith("enc:v1:") and "s3cret!" not in password
    assert stored_secret.startswith("enc:v1:") and secret not in stored_secret
    assert administration.find_connection(engine, bu, "carrier").password == "s3cret!"
    assert webhooks.show_endpoint(engine, bu).secret == secret
    assert b"s3cret!" not in (tmp_path / "psms.db").read_bytes()
    key_file = tmp_path / "psms.db.key"
    assert _mode(key_file) == 0o600
    (key,) = key_file.read_text().split()
    assert Fernet(key.encode()).decrypt(password[len("enc:v1:"):].encode()) == b"s3cret!"
    engine.dispose()


def test_the_database_file_is_created_readable_by_its_owner_only(tmp_path):
    old_umask = os.umask(0o022)
    try:
        engine = open_engine(f"sqlite:///{tmp_path / 'new.db'}")
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        assert _mode(tmp_path / "new.db") == 0o600
        assert _mode(tmp_path / "new.db-wal") == 0o600
        engine.dispose()
        loose = tmp_path / "loose.db"
        loose.touch(mode=0o644)
        os.chmod(loose, 0o644)
        open_engine(f"sqlite:///{loose}").dispose()
        assert _mode(loose) == 0o600
    finally:
        os.umask(old_umask)


def test_the_migration_seals_plain_values_of_an_older_database(tmp_path):
    engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        config = store_engine.alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (1, 'acme', "
                          "'2026-01-01')"))
        conn.execute(text("INSERT INTO business_unit (id, tenant_id, name, default_region, "
                          "created_at) VALUES (1, 1, 'sales', 'US', '2026-01-01')"))
        conn.execute(text("INSERT INTO carrier_connection (tenant_id, name, kind, host, port, "
                          "system_id, password, window_size, created_at) VALUES (1, 'c', "
                          "'smpp', 'h', 1, 'psms', 'plain8ch', 10, '2026-01-01')"))
        conn.execute(text("INSERT INTO webhook_endpoint (business_unit_id, url, secret, active, "
                          "created_at, updated_at) VALUES (1, 'https://x.example', "
                          "'whsec_plain', 1, '2026-01-01', '2026-01-01')"))
    store_engine.upgrade(engine)
    password, secret = _raw(engine)
    assert password.startswith("enc:v1:") and secret.startswith("enc:v1:")
    bu = administration.business_unit(engine, "sales")
    assert administration.find_connection(engine, bu, "c").password == "plain8ch"
    assert webhooks.show_endpoint(engine, bu).secret == "whsec_plain"
    engine.dispose()


def test_rotating_a_key_file_reseals_everything_and_retires_the_old_key(tmp_path,
                                                                       monkeypatch):
    engine, bu, secret = _world(tmp_path)
    engine.dispose()
    key_file = tmp_path / "psms.db.key"
    (old_key,) = key_file.read_text().split()
    before = _raw(engine)
    monkeypatch.setenv("PSMS_DATABASE_URL", f"sqlite:///{tmp_path / 'psms.db'}")
    result = CliRunner().invoke(app, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "resealed 1 carrier passwords, 1 webhook secrets" in result.output
    (new_key,) = key_file.read_text().split()
    assert new_key != old_key and _mode(key_file) == 0o600
    after = _raw(engine)
    assert all(a != b for a, b in zip(after, before, strict=True))
    with pytest.raises(InvalidToken):
        Fernet(old_key.encode()).decrypt(after[0][len("enc:v1:"):].encode())
    assert administration.find_connection(engine, bu, "carrier").password == "s3cret!"
    assert webhooks.show_endpoint(engine, bu).secret == secret


def test_rotating_with_keys_from_the_environment(tmp_path, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(secret_box.KEY_ENV, old)
    engine, bu, secret = _world(tmp_path)
    assert not (tmp_path / "psms.db.key").exists()  # the environment's key, no file
    monkeypatch.setenv(secret_box.KEY_ENV, f"{new},{old}")
    done = secrets.rotate(engine)
    assert done.resealed == {"carrier passwords": 1, "webhook secrets": 1}
    monkeypatch.setenv(secret_box.KEY_ENV, new)  # the old key is gone: all still opens
    assert administration.find_connection(engine, bu, "carrier").password == "s3cret!"
    assert webhooks.show_endpoint(engine, bu).secret == secret
    monkeypatch.setenv(secret_box.KEY_ENV, old)  # ... and the old key alone opens nothing
    with pytest.raises(secret_box.SecretKeyError, match="does not open with the key"):
        administration.find_connection(engine, bu, "carrier")
    engine.dispose()
