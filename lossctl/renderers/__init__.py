"""Renderer registries.

``RENDERERS``: ``--format NAME`` of ``analyze`` -> ``render(reports, errors, *, color, width) -> str``.
``COMPARE_RENDERERS``: ``--format NAME`` of ``compare`` -> ``render(comparison, errors, *, color, width) -> str``.
``IMAGE_RENDERERS`` / ``COMPARE_IMAGE_RENDERERS``: the same arguments, returning
``[(file name suffix, PNG bytes)]`` (one image, or one per run); they import matplotlib only
when called.
"""

from lossctl.renderers import (
    compare_json,
    compare_terminal,
    github,
    html,
    json_,
    junit,
    markdown,
    png,
    terminal,
)

RENDERERS = {
    "terminal": terminal.render,
    "json": json_.render,
    "github": github.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html.render,
}

COMPARE_RENDERERS = {
    "terminal": compare_terminal.render,
    "json": compare_json.render,
    "html": html.render_compare,
}

IMAGE_RENDERERS = {"png": png.render}
COMPARE_IMAGE_RENDERERS = {"png": png.render_compare}
