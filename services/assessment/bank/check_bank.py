#!/usr/bin/env python3
"""Validate an assessment question bank JSON file.

Usage:
    python3 check_bank.py [path/to/bank.json]

With no argument, checks v1.json in the same folder as this script.
Uses only the standard library. Prints per-section counts and the
answer-letter distribution; exits 1 if any problem is found, 0 otherwise.
"""

import json
import os
import sys
from collections import Counter

LANGS = ("id", "en")
TEXT_KEYS = ("title", "instructions", "text", "label")
OPTION_KEYS = ("A", "B", "C", "D")
KINDS = ("likert", "choice")


class Checker:
    def __init__(self):
        self.problems = []

    def fail(self, where, msg):
        self.problems.append(f"{where}: {msg}")

    # -- generic helpers -------------------------------------------------
    def check_text(self, where, value):
        """A translatable text: {"id": non-empty str, "en": non-empty str}."""
        if not isinstance(value, dict):
            self.fail(where, "text must be an object with 'id' and 'en'")
            return
        for lang in LANGS:
            s = value.get(lang)
            if not isinstance(s, str) or not s.strip():
                self.fail(where, f"missing or empty '{lang}' text")
        extra = set(value) - set(LANGS)
        if extra:
            self.fail(where, f"unexpected language keys {sorted(extra)}")

    def walk_texts(self, where, node):
        """Every title/instructions/text/label anywhere in the tree must be a full text."""
        if isinstance(node, dict):
            for key, val in node.items():
                here = f"{where}.{key}"
                if key in TEXT_KEYS:
                    self.check_text(here, val)
                else:
                    self.walk_texts(here, val)
        elif isinstance(node, list):
            for i, val in enumerate(node):
                self.walk_texts(f"{where}[{i}]", val)

    def check_code(self, where, code, seen):
        if not isinstance(code, str) or not code.strip():
            self.fail(where, "missing or empty code")
            return
        if code in seen:
            self.fail(where, f"duplicate code '{code}' (also at {seen[code]})")
        else:
            seen[code] = where

    # -- sections --------------------------------------------------------
    def check_likert(self, where, section, seen_codes):
        scale = section.get("scale")
        if not isinstance(scale, list) or len(scale) < 2:
            self.fail(where, "likert section needs a 'scale' list with at least 2 points")
        else:
            values = [p.get("value") if isinstance(p, dict) else None for p in scale]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                self.fail(where, "every scale point needs an integer 'value'")
            elif len(set(values)) != len(values):
                self.fail(where, "scale values are not unique")
            elif values != sorted(values):
                self.fail(where, "scale values are not in ascending order")
            for i, p in enumerate(scale):
                if not isinstance(p, dict) or "label" not in p:
                    self.fail(f"{where}.scale[{i}]", "missing label")

        for i, item in enumerate(section.get("items") or []):
            iw = f"{where}.items[{i}]"
            if not isinstance(item, dict):
                self.fail(iw, "item must be an object")
                continue
            iw = f"{iw}({item.get('code')})"
            self.check_code(iw, item.get("code"), seen_codes)
            if "text" not in item:
                self.fail(iw, "missing text")
            if not isinstance(item.get("reverse"), bool):
                self.fail(iw, "'reverse' must be true or false")
            facet = item.get("facet")
            if not isinstance(facet, str) or not facet.strip():
                self.fail(iw, "missing or empty facet")

    def check_choice(self, where, section, seen_codes, letters):
        for i, item in enumerate(section.get("items") or []):
            iw = f"{where}.items[{i}]"
            if not isinstance(item, dict):
                self.fail(iw, "item must be an object")
                continue
            iw = f"{iw}({item.get('code')})"
            self.check_code(iw, item.get("code"), seen_codes)
            if "text" not in item:
                self.fail(iw, "missing text")

            options = item.get("options")
            if not isinstance(options, list) or len(options) != 4:
                n = len(options) if isinstance(options, list) else "no"
                self.fail(iw, f"needs exactly 4 options, has {n}")
                options = options if isinstance(options, list) else []
            keys = []
            for j, opt in enumerate(options):
                if not isinstance(opt, dict):
                    self.fail(f"{iw}.options[{j}]", "option must be an object")
                    continue
                keys.append(opt.get("key"))
                if "text" not in opt:
                    self.fail(f"{iw}.options[{j}]", "missing text")
            if len(set(map(str, keys))) != len(keys):
                self.fail(iw, f"option keys are not unique: {keys}")
            if len(keys) == 4 and sorted(map(str, keys)) != list(OPTION_KEYS):
                self.fail(iw, f"option keys must be A, B, C, D; got {keys}")
            for lang in LANGS:
                shown = [
                    o["text"].get(lang) for o in options if isinstance(o, dict) and isinstance(o.get("text"), dict)
                ]
                if len(set(shown)) != len(shown):
                    self.fail(iw, f"two options have the same '{lang}' text")

            answer = item.get("answer")
            if not isinstance(answer, str):
                self.fail(iw, "'answer' must be a single option key (one correct answer)")
            elif answer not in keys:
                self.fail(iw, f"answer '{answer}' is not one of the option keys {keys}")
            else:
                letters[answer] += 1

    def check_bank(self, bank):
        if not isinstance(bank, dict):
            self.fail("bank", "top level must be an object")
            return []
        if not isinstance(bank.get("version"), str) or not bank["version"].strip():
            self.fail("bank", "missing or empty version")
        if "title" not in bank:
            self.fail("bank", "missing title")
        self.walk_texts("bank", bank)

        sections = bank.get("sections")
        if not isinstance(sections, list) or not sections:
            self.fail("bank", "'sections' must be a non-empty list")
            return []

        seen_codes = {}
        seen_sections = {}
        report = []
        for s, section in enumerate(sections):
            where = f"sections[{s}]"
            if not isinstance(section, dict):
                self.fail(where, "section must be an object")
                continue
            code = section.get("code")
            where = f"{where}({code})"
            self.check_code(where, code, seen_sections)
            for key in ("title", "instructions"):
                if key not in section:
                    self.fail(where, f"missing {key}")
            items = section.get("items")
            if not isinstance(items, list) or not items:
                self.fail(where, "'items' must be a non-empty list")
                items = []
            draw = section.get("draw")
            if not isinstance(draw, int) or isinstance(draw, bool) or draw < 1:
                self.fail(where, "'draw' must be a positive integer")
            elif draw > len(items):
                self.fail(where, f"draw {draw} is more than the {len(items)} items")

            kind = section.get("kind")
            letters = Counter()
            if kind == "likert":
                self.check_likert(where, section, seen_codes)
            elif kind == "choice":
                self.check_choice(where, section, seen_codes, letters)
            else:
                self.fail(where, f"unknown kind {kind!r}; expected one of {KINDS}")
            report.append((code, kind, draw, items, letters))
        return report


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    path = argv[1] if len(argv) > 1 else os.path.join(here, "v1.json")
    try:
        with open(path, encoding="utf-8") as fh:
            bank = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"ERROR: cannot load {path}: {exc}", file=sys.stderr)
        return 1

    checker = Checker()
    report = checker.check_bank(bank)

    print(f"Bank: {path}")
    print(f"Version: {bank.get('version') if isinstance(bank, dict) else '?'}")
    total_items = 0
    total_letters = Counter()
    for code, kind, draw, items, letters in report:
        total_items += len(items)
        line = f"  {code!s:<12} {kind!s:<7} items={len(items):<3} draw={draw}"
        if kind == "likert":
            rev = sum(1 for it in items if isinstance(it, dict) and it.get("reverse") is True)
            facets = Counter(it.get("facet") for it in items if isinstance(it, dict))
            line += f"  reverse={rev}  facets=" + ", ".join(f"{f}:{n}" for f, n in sorted(facets.items()))
        elif kind == "choice":
            total_letters.update(letters)
            line += "  answers=" + " ".join(f"{k}:{letters.get(k, 0)}" for k in OPTION_KEYS)
        print(line)
    print(f"Total items: {total_items}")
    print("Answer distribution (all choice items): " + " ".join(f"{k}:{total_letters.get(k, 0)}" for k in OPTION_KEYS))

    if checker.problems:
        print(f"\nFAILED: {len(checker.problems)} problem(s)", file=sys.stderr)
        for p in checker.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
