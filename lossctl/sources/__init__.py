"""Source registry, in the order each directory is offered to them: sources that own whole
folders (trackers) come before ``files``, which takes the log files that are left."""

from lossctl.sources import files, wandb
from lossctl.sources.mlflow import files as mlflow_files
from lossctl.sources.mlflow import server as mlflow_server
from lossctl.sources.mlflow import sqlite as mlflow_sqlite

SOURCES = [mlflow_server.source, mlflow_sqlite.source, mlflow_files.source, wandb.source, files.source]
BY_NAME = {s.name: s for s in SOURCES}
