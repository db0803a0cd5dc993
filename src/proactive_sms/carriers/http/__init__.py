"""HTTP messaging providers behind the carrier seam (carriers/base.py).

`client.HttpProviderCarrier` is provider-neutral: one keep-alive httpx client per connection, the
at-most-once rules (an answer we did not get is `uncertain`), Retry-After, and the link status.
Each provider's API shape is one module (`twilio`), registered in `providers.SHAPES`: how a text
becomes a request, how an answer becomes a SubmitResult, how its callbacks are signed and read.
"""
