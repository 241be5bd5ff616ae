"""`make bench`: benchmarks with a baseline measured in the same run. `python -m bench [identity] [--seconds N]`."""

from __future__ import annotations

import argparse
import asyncio
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", default=["identity", "selection"], help="which benchmarks (default: all)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each timed phase")
    args = parser.parse_args()
    for suite in args.suites:
        if suite == "identity":
            from bench.identity import run

            asyncio.run(run(args.seconds))
        elif suite == "selection":
            from bench.selection import run as run_selection

            asyncio.run(run_selection())
        else:
            print(f"unknown benchmark {suite!r}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
