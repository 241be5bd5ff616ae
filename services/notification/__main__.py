"""notification's command line.

  python -m services.notification worker       # consumer + outbox relay + dispatcher, no HTTP (scale these)
  python -m services.notification templates    # the templates, their channels and locales
  python -m services.notification render account_confirmation --channel email --locale en \\
      --params '{"full_name": "Siti", "link": "https://...", "token": "abc", "valid_hours": 24}'

In production run the HTTP app with NOTIFICATION_RUN_CONSUMERS=false, NOTIFICATION_RUN_RELAY=false and
NOTIFICATION_RUN_DISPATCHER=false, and as many workers as the load needs: dispatchers share the work safely.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from services.notification.config import get_settings
from services.notification.rendering import CHANNEL_KINDS, LOCALES, TemplateRenderError, Templates, UnknownTemplate
from shared.logging import configure_logging


async def _worker() -> int:
    from services.notification.main import run_worker

    settings = get_settings()
    task = asyncio.create_task(run_worker(settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return 0


def _templates() -> int:
    templates = Templates()
    for name in templates.names():
        locales = [loc for loc in LOCALES if templates.kinds(name, loc)]
        print(f"{name:<24} channels: {', '.join(templates.channels(name)):<14} locales: {', '.join(locales)}")
    return 0


def _render(name: str, channel: str, locale: str, params: str) -> int:
    try:
        values = json.loads(params)
        if not isinstance(values, dict):
            raise ValueError("--params must be a JSON object")
        rendered = Templates().render(name, channel, locale, values)
    except (ValueError, UnknownTemplate, TemplateRenderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if rendered.subject is not None:
        print(f"Subject: {rendered.subject}\n")
    print(rendered.text)
    if rendered.html is not None:
        print("\n--- HTML ---\n" + rendered.html)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.notification",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("worker", help="run the consumer, the outbox relay and the dispatcher without HTTP")
    sub.add_parser("templates", help="list the templates")
    render = sub.add_parser("render", help="render a template to check its wording")
    render.add_argument("template")
    render.add_argument("--channel", choices=sorted(CHANNEL_KINDS), default="email")
    render.add_argument("--locale", choices=LOCALES, default="id")
    render.add_argument("--params", default="{}", help="JSON object of template params")
    args = parser.parse_args(argv)
    if args.cmd == "worker":
        configure_logging(get_settings().log_level)
        return asyncio.run(_worker())
    if args.cmd == "templates":
        return _templates()
    return _render(args.template, args.channel, args.locale, args.params)


if __name__ == "__main__":
    sys.exit(main())
