"""The webhook fixtures (a clock, a receiver, dispatchers), shared with tests/webhooks."""

from tests.webhooks.conftest import clock, make_dispatcher, receiver

__all__ = ["clock", "make_dispatcher", "receiver"]
