"""Proactive SMS: the outbound SMS channel of a contact-center dialer."""

__version__ = "0.1.0"
