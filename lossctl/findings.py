"""A finding: one pathology in one series of one run (DESIGN.md section 2)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass
class Finding:
    kind: str
    severity: str
    run: str
    metric: str
    start_step: int | None
    end_step: int | None
    message: str
    evidence: dict = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
