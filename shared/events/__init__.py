"""The CloudEvents envelope and the versioned event catalogue (one module per producing service)."""

from shared.events.envelope import CloudEvent, EventPayload, catalogue, parse_data

__all__ = ["CloudEvent", "EventPayload", "catalogue", "parse_data"]
