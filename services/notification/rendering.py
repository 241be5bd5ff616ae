"""Rendering templates: Jinja2 files templates/<locale>/<name>.<kind>.j2, in Bahasa Indonesia and English.

Kinds: `subject` (e-mail subject and inbox title), `txt` (e-mail text part and inbox body), `html` (e-mail HTML
part, autoescaped), `sms`. A new template is only files: any service may then name it in a
NotificationRequested. Missing params fail loudly (StrictUndefined) instead of sending "Halo ,".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_FILE = re.compile(r"^([a-z][a-z0-9_]{0,63})\.(subject|txt|html|sms)\.j2$")

# The files a template needs for each channel.
CHANNEL_KINDS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "txt", "html"),
    "sms": ("sms",),
    "inbox": ("subject", "txt"),
}


class UnknownTemplate(LookupError):
    """No such template, or it has no files for the channel asked for."""


class TemplateRenderError(ValueError):
    """The template failed with these params (a param missing, a wrong type)."""


@dataclass(frozen=True)
class Rendered:
    """The content of one message on one channel: `subject` is None for SMS, `html` only for e-mail."""

    subject: str | None
    text: str
    html: str | None = None


def http_url(value: Any) -> str:
    """Only http(s) links go into an href; anything else (javascript:, data:) becomes inert."""
    text = str(value)
    return text if re.match(r"^https?://", text, re.IGNORECASE) else "#"


def one_line(value: str) -> str:
    return " ".join(value.split())


class Templates:
    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        self.directory = directory
        self.env = Environment(
            loader=FileSystemLoader(str(directory)),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False, default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["http_url"] = http_url
        self.env.filters["rupiah"] = rupiah
        self.files = self._scan()

    def _scan(self) -> dict[tuple[str, str], set[str]]:
        found: dict[tuple[str, str], set[str]] = {}
        for locale in LOCALES:
            folder = self.directory / locale
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                match = _FILE.match(path.name)
                if match:
                    found.setdefault((match.group(1), locale), set()).add(match.group(2))
        return found

    def names(self) -> list[str]:
        return sorted({name for name, _ in self.files})

    def kinds(self, name: str, locale: str) -> set[str]:
        return set(self.files.get((name, locale), set()))

    def channels(self, name: str) -> list[str]:
        """The channels `name` can be sent on (in the default locale)."""
        kinds = self.kinds(name, DEFAULT_LOCALE)
        return [channel for channel, needed in CHANNEL_KINDS.items() if set(needed) <= kinds]

    def _locale_for(self, name: str, channel: str, locale: str) -> str:
        needed = set(CHANNEL_KINDS[channel])
        for candidate in (locale, DEFAULT_LOCALE):
            if needed <= self.kinds(name, candidate):
                return candidate
        if not any(n == name for n, _ in self.files):
            raise UnknownTemplate(f"unknown template {name!r}")
        raise UnknownTemplate(f"template {name!r} has no {channel} variant")

    def check(self, name: str, channel: str) -> None:
        """Raise UnknownTemplate unless `name` exists and can be sent on `channel`."""
        if not _NAME.match(name) or channel not in CHANNEL_KINDS:
            raise UnknownTemplate(f"unknown template {name!r} or channel {channel!r}")
        self._locale_for(name, channel, DEFAULT_LOCALE)

    def render(self, name: str, channel: str, locale: str, params: Mapping[str, Any]) -> Rendered:
        """Render `name` for `channel` in `locale` (falling back to Bahasa Indonesia)."""
        self.check(name, channel)
        loc = self._locale_for(name, channel, locale)
        context = {**params, "locale": loc}

        def part(kind: str) -> str:
            try:
                return self.env.get_template(f"{loc}/{name}.{kind}.j2").render(context).strip()
            except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
                raise TemplateRenderError(f"{name}.{kind} ({loc}): {type(exc).__name__}: {exc}") from exc

        if channel == "sms":
            return Rendered(subject=None, text=part("sms"))
        subject = one_line(part("subject"))
        if channel == "inbox":
            return Rendered(subject=subject, text=part("txt"))
        return Rendered(subject=subject, text=part("txt") + "\n", html=part("html") + "\n")


def rupiah(value: object, locale: str = "id") -> str:
    """Integer rupiah as written in each language: Rp3.500.000 (id), Rp3,500,000 (en)."""
    amount = f"{int(str(value)):,}"
    return "Rp" + (amount.replace(",", ".") if locale == "id" else amount)
