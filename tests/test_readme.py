"""The README documents every setting and every service that exists."""

from __future__ import annotations

import importlib

import pytest

from shared.dev.run import PORTS, services
from shared.dev.settings_doc import env_vars
from shared.settings import ROOT, ServiceSettings

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("service", services())
def test_every_setting_of_every_service_is_documented(service):
    cls = type(importlib.import_module(f"services.{service}.config").get_settings())
    prefix = str(cls.model_config.get("env_prefix", ""))
    missing = [env for env, _, _ in env_vars(cls, prefix) if env.startswith(prefix) and f"`{env}`" not in README]
    assert missing == [], f"README lacks {missing}: run python -m shared.dev.settings_doc"


def test_shared_settings_and_services_are_documented():
    for env in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_ENABLE_IDEMPOTENCE", "JWKS_URL", "JWT_ISSUER", "TEST_POSTGRES_URL"):
        assert env in README
    for service in services():
        assert f"http://127.0.0.1:{PORTS[service]}/docs" in README


def test_shared_settings_listed():
    assert all(
        f"`{env}`" in README
        for env, _, _ in env_vars(ServiceSettings, "")
        if env.isupper() and not env.startswith(("DATABASE_URL", "DB_POOL", "MAX_BODY", "RUN_", "RELAY_"))
    )
