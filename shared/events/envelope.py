"""CloudEvents 1.0 JSON envelope and the catalogue of versioned payloads.

A payload class declares its event `type` (which is also its Kafka topic) and `version`; registering it in the
catalogue lets a consumer turn an envelope back into the typed payload, and refuses versions it does not know.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"


class EventPayload(BaseModel):
    """Base of every event's `data`. Subclasses set `event_type` and `version`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:prakerja:event:{cls.event_type}:v{cls.version}"


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 structured-mode JSON event."""

    model_config = ConfigDict(extra="allow")

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(cls, payload: EventPayload, *, source: str, subject: str) -> CloudEvent:
        return cls(
            source=source,
            type=payload.event_type,
            subject=subject,
            dataschema=payload.dataschema(),
            data=payload.model_dump(mode="json"),
        )


_CATALOGUE: dict[tuple[str, int], type[EventPayload]] = {}

P = TypeVar("P", bound=type[EventPayload])


def catalogue(cls: P) -> P:
    """Class decorator: register a payload model under its type and version."""
    key = (cls.event_type, cls.version)
    if key in _CATALOGUE and _CATALOGUE[key] is not cls:
        raise RuntimeError(f"event {key} registered twice")
    _CATALOGUE[key] = cls
    return cls


class UnknownEvent(ValueError):
    pass


def parse_data(event: CloudEvent) -> EventPayload:
    """The typed payload of an envelope, by its type and the version in `dataschema`."""
    version = 1
    if event.dataschema and ":v" in event.dataschema:
        try:
            version = int(event.dataschema.rsplit(":v", 1)[1])
        except ValueError as exc:
            raise UnknownEvent(f"bad dataschema {event.dataschema!r}") from exc
    model = _CATALOGUE.get((event.type, version))
    if model is None:
        raise UnknownEvent(f"no payload model for {event.type} v{version}")
    return model.model_validate(event.data)


def registered() -> dict[tuple[str, int], type[EventPayload]]:
    return dict(_CATALOGUE)
