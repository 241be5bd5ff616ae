"""Prints every setting of every service as Markdown tables (pasted into the README; a test keeps them in sync).

`python -m shared.dev.settings_doc`
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from shared.dev.run import services
from shared.settings import ServiceSettings

SKIP = {"service_name", "port", "var_dir"}


def env_vars(settings_cls: type[BaseSettings], prefix: str) -> Iterator[tuple[str, str, str]]:
    for name, field in settings_cls.model_fields.items():
        if name in SKIP:
            continue
        alias = field.validation_alias
        env = str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"{prefix}{name}".upper()
        default = field.default if field.default_factory is None else field.default_factory()  # type: ignore[call-arg]
        if hasattr(default, "get_secret_value"):
            default = "(empty)" if not default.get_secret_value() else "(set)"
        shown = "(empty)" if default in ("", None) else str(default)
        yield env, shown, (field.description or "").replace("|", "\\|")


def main() -> None:
    print("### Shared by every service\n\n| variable | default | meaning |\n|---|---|---|")
    for env, default, doc in env_vars(ServiceSettings, ""):
        if env.isupper() and not env.startswith(("DATABASE_URL", "DB_POOL", "MAX_BODY", "RUN_", "RELAY_")):
            print(f"| `{env}` | `{default}` | {doc} |")
    for name in services():
        module = importlib.import_module(f"services.{name}.config")
        cls = type(module.get_settings())
        prefix = str(cls.model_config.get("env_prefix", ""))
        print(f"\n### {name} (prefix `{prefix}`)\n\n| variable | default | meaning |\n|---|---|---|")
        for env, default, doc in env_vars(cls, prefix):
            if env.startswith(prefix):
                if env == f"{prefix}DATABASE_URL":
                    default = f"sqlite+aiosqlite:///var/{name}.db"
                print(f"| `{env}` | `{default}` | {doc} |")


if __name__ == "__main__":
    main()
