"""Print how many inputs each fuzzed reader was given (``make fuzz`` reports it)."""

from .guard import TRIED


def pytest_terminal_summary(terminalreporter):
    if TRIED:
        total = sum(TRIED.values())
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(TRIED.items()))
        terminalreporter.write_line(f"fuzz: {total:,} inputs tried ({parts})")
