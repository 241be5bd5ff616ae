"""Development data for `make run`: each service's `python -m services.<name> dev-data`, where it has one."""

from __future__ import annotations

import subprocess
import sys

from shared.dev.run import services
from shared.settings import ROOT


def main() -> int:
    for name in services():
        cli = ROOT / "services" / name / "__main__.py"
        if cli.exists() and "dev-data" in cli.read_text():
            subprocess.run([sys.executable, "-m", f"services.{name}", "dev-data"], check=True, cwd=ROOT)  # noqa: S603
    return 0


if __name__ == "__main__":
    sys.exit(main())
