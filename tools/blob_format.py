"""Reader/writer of the msrn-ts container (weights/FORMAT.md), byte for byte the same as
src/msrn/container.ts:

  "MSRN" | u32 version=1 | u32 header_len (multiple of 4) | header JSON (space padded)
  | tensors back to back, little-endian (int8 tensors zero-padded to 4 bytes) | u32 CRC-32 (zlib)
"""
import json
import struct
import zlib

import numpy as np

MAGIC = b"MSRN"
VERSION = 1
DTYPES = {"f32": np.dtype("<f4"), "i8": np.dtype("i1"), "i32": np.dtype("<i4")}


def _align4(n):
    return (n + 3) & ~3


def encode_container(kind, extra_header, tensors):
    """tensors: list of (name, dtype, numpy array). Returns bytes."""
    header = {"kind": kind, **extra_header,
              "tensors": [{"name": n, "dtype": d, "shape": list(a.shape)} for n, d, a in tensors]}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb = hb + b" " * (_align4(len(hb)) - len(hb))
    parts = [MAGIC, struct.pack("<II", VERSION, len(hb)), hb]
    for name, dtype, array in tensors:
        raw = np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()
        parts.append(raw + b"\0" * (_align4(len(raw)) - len(raw)))
    body = b"".join(parts)
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def decode_container(data):
    """Returns (header dict, {name: numpy array}). Raises ValueError on any inconsistency."""
    if len(data) < 16 or data[:4] != MAGIC:
        raise ValueError("not an msrn-ts blob (wrong magic)")
    version, header_len = struct.unpack_from("<II", data, 4)
    if version != VERSION:
        raise ValueError(f"unknown container version {version}")
    stored = struct.unpack_from("<I", data, len(data) - 4)[0]
    if zlib.crc32(data[:-4]) & 0xFFFFFFFF != stored:
        raise ValueError("checksum mismatch")
    header = json.loads(data[12:12 + header_len].decode("utf-8"))
    offset = 12 + header_len
    tensors = {}
    for spec in header["tensors"]:
        dt = DTYPES[spec["dtype"]]
        count = int(np.prod(spec["shape"]))
        tensors[spec["name"]] = np.frombuffer(data, dtype=dt, count=count, offset=offset).reshape(spec["shape"]).copy()
        offset += _align4(count * dt.itemsize)
    if offset + 4 != len(data):
        raise ValueError("size does not match the header")
    return header, tensors
