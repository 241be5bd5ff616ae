"""Language choice: Bahasa Indonesia by default, English when the client asks for it."""

from __future__ import annotations

from typing import Literal

Locale = Literal["id", "en"]
SUPPORTED: tuple[Locale, ...] = ("id", "en")


def negotiate(accept_language: str | None) -> Locale:
    """Pick `en` only when English is preferred over Indonesian in Accept-Language."""
    if not accept_language:
        return "id"
    best: tuple[float, Locale] | None = None
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary not in SUPPORTED or quality <= 0:
            continue
        # Earlier entries win ties, as clients list them in order of preference.
        score = quality - index * 1e-6
        if best is None or score > best[0]:
            best = (score, primary)
    return best[1] if best else "id"


class Text:
    """A message in both languages."""

    __slots__ = ("en", "id")

    def __init__(self, id: str, en: str) -> None:
        self.id = id
        self.en = en

    def get(self, locale: Locale) -> str:
        return self.en if locale == "en" else self.id

    def format(self, **kwargs: object) -> Text:
        return Text(self.id.format(**kwargs), self.en.format(**kwargs))
