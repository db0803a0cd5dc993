"""The `psms` command line: one module per resource, as in interfaces/api/ and interfaces/web/."""

from proactive_sms.interfaces.cli.root import app, main

__all__ = ["app", "main"]
