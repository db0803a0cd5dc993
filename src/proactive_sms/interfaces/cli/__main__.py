"""`python -m proactive_sms.interfaces.cli`: the same as `psms`."""

from proactive_sms.interfaces.cli.root import main

main()
