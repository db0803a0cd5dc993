"""`psms secrets …`: the key that seals carrier passwords and webhook secrets at rest."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx

app = typer.Typer(help="The key that seals stored secrets (docs: README, Secrets at rest).",
                  no_args_is_help=True)


@app.command("rotate")
@ctx.handle_errors
def secrets_rotate():
    """Seal every stored secret with a new key. With a key file, the new key is made and the
    old one retired; with PSMS_SECRET_KEY=NEW,OLD, the first key seals (then drop OLD)."""
    from proactive_sms.services import secrets

    done = secrets.rotate(ctx.engine())
    counts = ", ".join(f"{n} {kind}" for kind, n in done.resealed.items())
    ctx.console.print(f"resealed {counts} with the new key of {done.where}", highlight=False)
    if done.retired_keys:
        ctx.console.print(f"{done.retired_keys} old key(s) removed from {done.where}",
                          highlight=False)
    else:
        ctx.console.print("now remove the old key(s) from PSMS_SECRET_KEY on every process",
                          highlight=False)


@app.command("generate-key")
def secrets_generate_key():
    """Print a new key (for PSMS_SECRET_KEY)."""
    from proactive_sms.services import secrets

    print(secrets.generate_key())


# A missing or wrong key: one clear line.
ctx.register_user_error("proactive_sms.store.secret_box:SecretKeyError")
