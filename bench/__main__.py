"""`python -m bench [name …]`: run every benchmark (or the named ones), one JSON line each."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(names):
    available = sorted(
        module.name
        for module in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not module.name.startswith("_")
    )
    for name in names or available:
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
