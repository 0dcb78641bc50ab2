"""The one exception type that bad input may raise inside lossctl.

Readers raise :class:`InputError` for anything wrong with a user's file; the CLI turns it
into a one-line message and exit code 2 (or a run warning when other files were readable).
"""


class InputError(Exception):
    """A log file (or path) that cannot be read; the message names the file and the problem."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class NotALog(InputError):
    """A file that parsed but is not a training log (a config JSON beside the logs, say).

    Ignored while other logs are found; reported when nothing readable is.
    """
