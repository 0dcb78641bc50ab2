"""``--format json``: the report of DESIGN.md section 3."""

from __future__ import annotations

import json

from lossctl.report import report_dict


def render(reports, errors, *, color: bool = False, width: int = 100) -> str:
    return json.dumps(report_dict(reports, errors), indent=2, allow_nan=False) + "\n"
