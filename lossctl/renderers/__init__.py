"""Renderer registries, one line per format: ``NAME -> "module:function"`` (in this package),
imported on first lookup, so a run rendered as JSON does not import the HTML, PNG or terminal
renderers (nor what they import).

``RENDERERS``: ``--format NAME`` of ``analyze`` -> ``render(reports, errors, *, color, width) -> str``.
``COMPARE_RENDERERS``: ``--format NAME`` of ``compare`` -> ``render(comparison, errors, *, color, width) -> str``.
``IMAGE_RENDERERS`` / ``COMPARE_IMAGE_RENDERERS``: the same arguments, returning
``[(file name suffix, PNG bytes)]`` (one image, or one per run); they import matplotlib only
when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from importlib import import_module


class Registry(Mapping):
    """A read-only mapping of names to functions given as ``"module:function"`` paths."""

    def __init__(self, paths: dict[str, str]):
        self._paths = paths

    def __getitem__(self, name: str) -> Callable:
        module, attr = self._paths[name].split(":")
        return getattr(import_module(f"{__name__}.{module}"), attr)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


RENDERERS = Registry({
    "terminal": "terminal:render",
    "json": "json_:render",
    "github": "github:render",
    "junit": "junit:render",
    "markdown": "markdown:render",
    "html": "html:render",
})

COMPARE_RENDERERS = Registry({
    "terminal": "compare_terminal:render",
    "json": "compare_json:render",
    "html": "html:render_compare",
})

IMAGE_RENDERERS = Registry({"png": "png:render"})
COMPARE_IMAGE_RENDERERS = Registry({"png": "png:render_compare"})
