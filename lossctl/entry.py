"""The ``lossctl`` command's entry point. ``lossctl --version`` is answered here, before typer and
the command definitions are imported (two thirds of the start-up); everything else goes to
:func:`lossctl.cli.main`."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from lossctl import __version__

        print(f"lossctl {__version__}")
        return
    from lossctl.cli import main as cli_main

    cli_main()
