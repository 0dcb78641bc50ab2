"""Renderer registry: ``--format NAME`` -> ``render(reports, errors, *, color, width) -> str``."""

from lossctl.renderers import json_, terminal

RENDERERS = {
    "terminal": terminal.render,
    "json": json_.render,
}
