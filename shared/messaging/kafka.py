"""Kafka client factory and a cheap reachability probe."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import ServiceSettings


def new_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        max_batch_size=1_048_576,
        request_timeout_ms=int(settings.kafka_client_timeout_s * 1000),
        client_id=f"prakerja-{settings.service_name}",
    )


def new_consumer(settings: ServiceSettings, group_id: str, topics: list[str]) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        metadata_max_age_ms=5000,
        request_timeout_ms=int(settings.kafka_client_timeout_s * 1000) + 30000,
        client_id=f"prakerja-{settings.service_name}-{group_id}",
    )


async def ensure_topics(settings: ServiceSettings, topics: list[str]) -> None:
    """Create topics that do not exist yet, so a consumer can subscribe before anyone produced."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=int(settings.kafka_client_timeout_s * 1000),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, num_partitions=1, replication_factor=1) for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


async def broker_reachable(bootstrap_servers: str, timeout: float = 1.0) -> bool:
    """True when a TCP connection to any bootstrap server opens within `timeout`."""
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout)
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False
