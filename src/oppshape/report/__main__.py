"""``python -m oppshape.report <command> ...``: every module of this package that defines
``register(subparsers)`` adds one command (its own arguments and ``func``)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import oppshape.report as package


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m oppshape.report", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
