"""TensorBoard's hparams plugin: the hyperparameters of a run, and which scalars are its final metrics.

``SummaryWriter.add_hparams`` (torch, tensorboardX) and Keras' ``hp.hparams()`` write summaries whose
``plugin_data`` is an ``HParamsPluginData`` message: ``session_start_info`` holds the values
(string, number or bool ``google.protobuf.Value``), ``experiment`` names the metrics
(``metric_infos``). Both event-file readers hand over those values' plugin contents as
``(tag, bytes)``; they are decoded here, once, with TensorBoard's own protobuf classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from lossctl.hparams import typed_hparams

PLUGIN = "hparams"


@dataclass
class PluginHParams:
    hparams: dict = field(default_factory=dict)  # typed as every source's (lossctl.hparams)
    metrics: set[str] = field(default_factory=set)  # the experiment's metric tags (add_hparams' metric_dict)
    sessions: int = 0  # session_start_info summaries read
    warnings: list[str] = field(default_factory=list)


def decode(values: list[tuple[str, bytes]], where: str) -> PluginHParams:
    """The hparams plugin's summaries of one file (in file order: a later session's value wins)."""
    from google.protobuf.message import DecodeError
    from tensorboard.plugins.hparams import plugin_data_pb2

    out = PluginHParams()
    raw = {}
    for tag, content in values:
        try:
            data = plugin_data_pb2.HParamsPluginData.FromString(content)
        except DecodeError:
            out.warnings.append(f"{where}: hparams plugin summary {tag!r} is not readable; left out")
            continue
        kind = data.WhichOneof("data")
        if kind == "session_start_info":
            out.sessions += 1
            for name, value in data.session_start_info.hparams.items():
                raw[name] = _value(value)
        elif kind == "experiment":
            out.metrics |= {m.name.tag for m in data.experiment.metric_infos if m.name.tag}
    out.hparams = typed_hparams(raw)
    return out


def _value(v):
    """A ``google.protobuf.Value`` as Python. The plugin stores every number as a double: an
    integral one (``batch_size=32``) becomes an int, as other sources' configs give it."""
    kind = v.WhichOneof("kind")
    if kind == "number_value":
        x = v.number_value
        return int(x) if math.isfinite(x) and x == int(x) and abs(x) < 2**53 else x
    if kind == "struct_value":
        return {k: _value(x) for k, x in v.struct_value.fields.items()}
    if kind == "list_value":
        return [_value(x) for x in v.list_value.values]
    return getattr(v, kind) if kind in ("string_value", "bool_value") else None
