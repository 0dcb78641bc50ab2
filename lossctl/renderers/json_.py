"""``--format json``: the report of DESIGN.md section 3."""

from __future__ import annotations

from lossctl.renderers.json_text import dumps
from lossctl.report import report_dict


def render(reports, errors, *, color: bool = False, width: int = 100) -> str:
    return dumps(report_dict(reports, errors)) + "\n"
