"""Reader registry: one line per supported format; the first whose ``sniff`` accepts a file reads it."""

from lossctl.readers import console, csv_reader, json_reader, tensorboard, wandb_export

# wandb_export before csv: a W&B chart export is a CSV whose columns name runs
READERS = [tensorboard.reader, wandb_export.reader, csv_reader.reader, console.reader, json_reader.reader]
BY_FORMAT = {r.format: r for r in READERS}
