"""Rotating the key that seals secrets at rest (store.secret_box): every stored secret is sealed
again with a new key, while the old one still opens what is not yet done.

With a key file (beside the SQLite database, or PSMS_SECRET_KEY_FILE): a new key is written first
in the file, ahead of the old ones (so every process reads both from then on); every secret is
resealed with it in one transaction; then the old keys leave the file. A crash between those
steps leaves a file with both keys: nothing is unreadable, and running the command again ends it.

With PSMS_SECRET_KEY (keys from the environment, which we cannot rewrite): put the new key first,
`PSMS_SECRET_KEY=NEW,OLD`, on every process; run the rotation (it reseals with the first key);
then set `PSMS_SECRET_KEY=NEW` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.store import secret_box


@dataclass(frozen=True)
class Rotation:
    resealed: dict[str, int]  # how many secrets of each kind
    where: str  # the key file, or PSMS_SECRET_KEY
    retired_keys: int  # old keys removed from the key file (0 with the environment)


def rotate(engine: Engine) -> Rotation:
    """Reseal every secret with a new key (see the module's page)."""
    source = secret_box.key_source(engine.url)
    if source.path is not None:
        new_key = secret_box.generate_key()
        secret_box.write_key_file(source.path, [new_key, *source.keys])
    box = secret_box.box_for(engine.url)
    with engine.begin() as conn:
        resealed = secret_box.reseal_all(conn, box)
    if source.path is None:
        return Rotation(resealed, source.where, 0)
    secret_box.write_key_file(source.path, [new_key])
    return Rotation(resealed, source.where, len(source.keys))


def generate_key() -> str:
    """A new key, for PSMS_SECRET_KEY."""
    return secret_box.generate_key()
