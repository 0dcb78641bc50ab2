"""Start-up: `lossctl --version`, `lossctl --help` and `lossctl analyze --help`, each the median
of fresh processes, beside the yardstick measured in the same run: `python -c pass` (the
interpreter and site start-up every command pays). Run as `python -m lossctl`, the same
interpreter and imports as the console script, without the shell wrapper's cost."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (yardstick)": ["-c", "pass"],
    "lossctl --version": ["-m", "lossctl", "--version"],
    "lossctl --help": ["-m", "lossctl", "--help"],
    "lossctl analyze --help": ["-m", "lossctl", "analyze", "--help"],
}


def _once(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def main(repeat: int = 5) -> list[dict]:
    """``{command, seconds (median), x (of the yardstick's median)}`` per command; the commands
    are run in turn, ``repeat`` rounds, so a busy moment of the machine hits them all alike."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for args in COMMANDS.values():  # warm the file cache once
        _once(args)
    for _ in range(repeat):
        for name, args in COMMANDS.items():
            times[name].append(_once(args))
    base = statistics.median(times["python -c pass (yardstick)"])
    return [{"command": name, "seconds": statistics.median(t), "x": statistics.median(t) / base}
            for name, t in times.items()]


if __name__ == "__main__":
    for row in main():
        print(f"{row['command']:28s} {row['seconds'] * 1000:7.1f} ms  {row['x']:5.2f}x")
