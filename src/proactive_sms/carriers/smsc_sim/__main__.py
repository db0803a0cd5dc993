"""`python -m proactive_sms.carriers.smsc_sim`: the same server and options as `psms smsc-sim`.

The options live in one place, the CLI sub-app; importing an interface module from a `__main__`
entry point does not make the carriers layer depend on interfaces.
"""

from proactive_sms.interfaces.cli.smsc_sim import app

if __name__ == "__main__":
    app(prog_name="python -m proactive_sms.carriers.smsc_sim")
