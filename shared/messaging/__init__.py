"""Transactional outbox, relay, idempotent consumers with dead-lettering, and the Kafka client factory."""

from shared.messaging.consumer import EventConsumer, Handler
from shared.messaging.outbox import Outbox
from shared.messaging.relay import OutboxRelay
from shared.messaging.runtime import MessagingRuntime
from shared.messaging.tables import MessagingTables, messaging_tables

__all__ = [
    "EventConsumer",
    "Handler",
    "MessagingRuntime",
    "MessagingTables",
    "Outbox",
    "OutboxRelay",
    "messaging_tables",
]
