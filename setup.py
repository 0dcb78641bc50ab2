"""Build the optional C extension ``lossctl.readers._scan`` (project metadata is in pyproject.toml).

The extension is optional: when there is no C compiler or compilation fails, installation still
succeeds with a warning and lossctl reads TensorBoard files with its pure-Python reader.
``LOSSCTL_NO_EXTENSION=1`` skips the build on purpose.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that turns any failure (no compiler, compile or link error) into a warning."""

    def run(self):
        if os.environ.get("LOSSCTL_NO_EXTENSION") == "1":
            self._skip("LOSSCTL_NO_EXTENSION=1")
            return
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - DistutilsPlatformError, CCompilerError, ...
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(exc)

    def _skip(self, why):
        msg = (f"WARNING: the C extension lossctl.readers._scan was not built ({why}); "
               "lossctl will use its pure-Python TensorBoard reader (slower, same results).")
        print(msg, file=sys.stderr)


setup(
    ext_modules=[
        Extension(
            "lossctl.readers._scan",
            sources=["lossctl/readers/_scan.c"],
            extra_compile_args=["-O3"] if os.name != "nt" else ["/O2"],
            optional=True,
        ),
        Extension(  # the console scanner's per-byte loops; lossctl/readers/console/fastpath.py
            "lossctl.readers.console._lines",  # falls back to numpy/pandas without it
            sources=["lossctl/readers/console/_lines.c"],
            extra_compile_args=["-O3"] if os.name != "nt" else ["/O2"],
            optional=True,
        ),
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
