"""JSON logs with the request id, masking e-mail addresses, phone numbers and NIKs wherever they appear."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_NIK = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(\+62|62|0)(8\d)\d{5,9}(\d{2})(?!\d)")


def mask(text: str) -> str:
    """Mask personal data in free text: e-mail, 16-digit NIK/KK, Indonesian mobile numbers."""
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _NIK.sub(r"\1********\2", text)
    return _PHONE.sub(r"\1\2*****\3", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key in ("service", "method", "path", "status", "duration_ms"):
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = mask(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's access log would print full URLs (tokens in query strings); ours is masked.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
