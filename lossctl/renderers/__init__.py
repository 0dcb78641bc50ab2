"""Renderer registries.

``RENDERERS``: ``--format NAME`` of ``analyze`` -> ``render(reports, errors, *, color, width) -> str``.
``COMPARE_RENDERERS``: ``--format NAME`` of ``compare`` -> ``render(comparison, errors, *, color, width) -> str``.
"""

from lossctl.renderers import compare_json, compare_terminal, github, json_, junit, markdown, terminal

RENDERERS = {
    "terminal": terminal.render,
    "json": json_.render,
    "github": github.render,
    "junit": junit.render,
    "markdown": markdown.render,
}

COMPARE_RENDERERS = {
    "terminal": compare_terminal.render,
    "json": compare_json.render,
}
