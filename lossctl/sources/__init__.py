"""Source registry, in the order each directory is offered to them: sources that own whole
folders (trackers) come before ``files``, which takes the log files that are left."""

from lossctl.sources import files, wandb

SOURCES = [wandb.source, files.source]
BY_NAME = {s.name: s for s in SOURCES}
