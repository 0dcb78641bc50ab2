"""VisualDL record files (PaddlePaddle's TensorBoard: PaddleDetection, PaddleOCR, PaddleSeg, ...).

``LogWriter(logdir)`` writes ``vdlrecords.<time>.log``: records, each an unsigned 64-bit
little-endian length and a protobuf ``Record`` of ``Value``s (visualdl/proto/record.proto):
``id`` (the step), ``tag``, ``timestamp`` (milliseconds) and one of ``value`` (a float32
scalar) or ``tag_value`` (``add_scalars``: a sub-tag and its float, read as ``tag/sub-tag``),
images, histograms, hparams and the file's ``meta_data_tag``, which are not curves.

The records are parsed by protobuf (a dependency of tensorboard) from the scalar part of
VisualDL's schema, declared here, so ``visualdl`` itself is not needed; the others are unknown
fields, skipped. Joined, the records parse as one ``Record`` whose ``values`` are every
record's in file order, in one call. A record whose length runs past the end of the file is
a file cut short or still being written: the records before it are read and a warning says
where it stopped.
"""

from __future__ import annotations

import struct
from functools import cache

import numpy as np
import pandas as pd

from lossctl.errors import InputError
from lossctl.frame import make_frame
from lossctl.readers.base import FileData
from lossctl.storage import as_blob, cannot_read

FORMAT = "visualdl"
MAX_RECORD = 64 << 20  # a longer "length" is not a record (an image record is far below this)
_U64 = struct.Struct("<Q")


@cache
def _record_class():
    """``Record`` with the scalar fields of VisualDL's ``Record.Value`` (field numbers as in
    visualdl/proto/record.proto)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    f = descriptor_pb2.FieldDescriptorProto
    fd = descriptor_pb2.FileDescriptorProto(name="lossctl_visualdl.proto", package="lossctl_visualdl",
                                            syntax="proto3")
    record = fd.message_type.add(name="Record")
    tag_value = record.nested_type.add(name="TagValue")
    tag_value.field.add(name="tag", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    tag_value.field.add(name="value", number=2, type=f.TYPE_FLOAT, label=f.LABEL_OPTIONAL)
    value = record.nested_type.add(name="Value")
    value.oneof_decl.add(name="one_value")
    value.field.add(name="id", number=1, type=f.TYPE_INT64, label=f.LABEL_OPTIONAL)
    value.field.add(name="tag", number=2, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    value.field.add(name="timestamp", number=3, type=f.TYPE_INT64, label=f.LABEL_OPTIONAL)
    value.field.add(name="value", number=4, type=f.TYPE_FLOAT, label=f.LABEL_OPTIONAL, oneof_index=0)
    value.field.add(name="tag_value", number=14, type=f.TYPE_MESSAGE, label=f.LABEL_OPTIONAL, oneof_index=0,
                    type_name=".lossctl_visualdl.Record.TagValue")
    record.field.add(name="values", number=1, type=f.TYPE_MESSAGE, label=f.LABEL_REPEATED,
                     type_name=".lossctl_visualdl.Record.Value")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    desc = pool.FindMessageTypeByName("lossctl_visualdl.Record")
    get = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.21
    return get(desc) if get else message_factory.MessageFactory(pool).GetPrototype(desc)


class VisualDLReader:
    format = FORMAT

    def sniff(self, path, head: bytes) -> bool:
        """``vdlrecords.*`` whose first record's length is sane and whose bytes open a Record."""
        if "vdlrecords" not in path.name or len(head) < 9:
            return False
        return 0 < _U64.unpack_from(head)[0] <= MAX_RECORD and head[8] == 0x0A

    def read(self, path) -> FileData:
        path = as_blob(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise cannot_read(path, exc) from None
        warnings: list[str] = []
        bodies, i = [], 0
        while i < len(data):
            size = _U64.unpack_from(data, i)[0] if i + 8 <= len(data) else None
            if size is None or size > MAX_RECORD or i + 8 + size > len(data):
                warnings.append(f"{path}: last record incomplete at byte {i:,} (cut short, or still being "
                                f"written); read the {len(bodies):,} complete records before it")
                break
            bodies.append(data[i + 8:i + 8 + size])
            i += 8 + size
        if not bodies:
            raise InputError(path, "empty file (0 bytes)" if not data else
                             f"not a VisualDL record file (no complete record in its {len(data):,} bytes)")
        values, bad = _values(bodies)
        if bad:
            warnings.append(f"{path}: {bad:,} of {len(bodies):,} records are not VisualDL records; skipped")
        n = len(values)  # one pass per field: wrappers of a million values are not kept alive
        kinds = [v.WhichOneof("one_value") for v in values]  # "value", "tag_value" or None
        sub = np.flatnonzero([k == "tag_value" for k in kinds])
        keep = np.fromiter((k is not None for k in kinds), bool, n)
        tags = [v.tag for v in values]
        points = np.fromiter((v.value for v in values), np.float64, n)
        for i in sub.tolist():  # add_scalars: the sub-tag's value, named tag/sub-tag
            tags[i] = f"{tags[i]}/{values[i].tag_value.tag}"
            points[i] = values[i].tag_value.value
        if not keep.any():
            raise InputError(path, f"no scalar values in its {len(bodies):,} records (images, histograms "
                             "or hparams only)")
        steps = np.fromiter((v.id for v in values), np.int64, n)
        walls = np.fromiter((v.timestamp for v in values), np.float64, n) / 1000.0
        frame = make_frame(pd.Categorical(np.asarray(tags, dtype=object)[keep]), steps[keep], walls[keep], points[keep])
        return FileData(frame, FORMAT, warnings)


def _values(bodies: list[bytes]):
    """Every record's ``Value``s in file order, and how many records did not parse: all records
    joined parse as one (protobuf appends repeated fields); when that fails, one by one."""
    from google.protobuf.message import DecodeError

    record = _record_class()
    try:
        return record.FromString(b"".join(bodies)).values, 0
    except DecodeError:
        pass
    values, bad = [], 0
    for body in bodies:
        try:
            values += record.FromString(body).values
        except DecodeError:
            bad += 1
    return values, bad


reader = VisualDLReader()
