"""A small UBJSON reader for XGBoost's binary model format (`Booster.save_raw("ubj")`).

XGBoost writes its model as UBJSON ten times faster than as JSON text, and its node arrays as
typed, counted containers, which this reader turns into NumPy arrays in one step (no per-number
Python objects). Other values become the usual dicts, lists, strings and numbers. Malformed input
raises ValueError; nothing is trusted (every length and count is checked against the bytes left).

The converter reads models with its compiled twin, assay._core.ubjson_loads (C++, over ten times
faster); this module is the slow reference it is tested against (tests/test_ubjson_native.py: the
same objects, and the same inputs accepted and refused). A change here is a change there.
"""

from __future__ import annotations

import struct

import numpy as np

_NUMERIC = {  # marker byte -> big-endian dtype
    ord("i"): np.dtype(">i1"),
    ord("U"): np.dtype("u1"),
    ord("I"): np.dtype(">i2"),
    ord("l"): np.dtype(">i4"),
    ord("L"): np.dtype(">i8"),
    ord("d"): np.dtype(">f4"),
    ord("D"): np.dtype(">f8"),
}
_SCALAR = {
    ord(m): (struct.Struct(f), struct.calcsize(f))
    for m, f in (("i", ">b"), ("U", ">B"), ("I", ">h"), ("l", ">i"), ("L", ">q"), ("d", ">f"), ("D", ">d"))
}
_INTS = {m for m, dt in _NUMERIC.items() if dt.kind in "iu"}
_NOOP, _DOLLAR, _HASH = ord("N"), ord("$"), ord("#")
_MAX_DEPTH = 64


class _Reader:
    """Recursive descent over a bytes buffer; self.pos is the next unread byte."""

    def __init__(self, buf: bytes):
        self.buf = buf
        self.pos = 0

    def _need(self, n: int):
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError(f"truncated UBJSON at byte {self.pos} (need {n} more bytes)")

    def marker(self) -> int:
        buf, pos = self.buf, self.pos
        while pos < len(buf) and buf[pos] == _NOOP:
            pos += 1
        if pos >= len(buf):
            raise ValueError("truncated UBJSON: expected a marker")
        self.pos = pos + 1
        return buf[pos]

    def number(self, m: int):
        spec = _SCALAR.get(m)
        if spec is None:
            raise ValueError(f"UBJSON: expected a number marker at byte {self.pos - 1}, got {chr(m)!r}")
        fmt, size = spec
        self._need(size)
        v = fmt.unpack_from(self.buf, self.pos)[0]
        self.pos += size
        return v

    def length(self) -> int:
        m = self.marker()
        if m not in _INTS:
            raise ValueError(f"UBJSON: expected an integer length at byte {self.pos - 1}")
        n = self.number(m)
        if n < 0:
            raise ValueError(f"UBJSON: negative length {n} at byte {self.pos}")
        return n

    def string(self) -> str:
        n = self.length()
        self._need(n)
        s = self.buf[self.pos : self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, m: int, depth: int):
        if m in _SCALAR:
            return self.number(m)
        c = chr(m)
        if c == "S":
            return self.string()
        if c == "[":
            return self.array(depth)
        if c == "{":
            return self.object(depth)
        if c == "H":  # high-precision number, as a string
            return float(self.string())
        if c == "C":
            self._need(1)
            self.pos += 1
            return chr(self.buf[self.pos - 1])
        if c in "TFZ":
            return {"T": True, "F": False, "Z": None}[c]
        raise ValueError(f"UBJSON: unknown marker {c!r} at byte {self.pos - 1}")

    def container_header(self, depth: int):
        """(element type marker or None, count or None) after '[' or '{'."""
        if depth > _MAX_DEPTH:
            raise ValueError("UBJSON: nesting too deep")
        kind = count = None
        m = self.marker()
        if m == _DOLLAR:
            self._need(1)
            kind = self.buf[self.pos]
            self.pos += 1
            if self.marker() != _HASH:
                raise ValueError("UBJSON: a typed container needs a count")
            count = self.length()
        elif m == _HASH:
            count = self.length()
        else:
            self.pos -= 1  # no header: an element (or the end marker) starts here
        # No count exceeds the bytes left, not even one of T, F or Z, whose typed containers UBJSON
        # lets carry no bytes (XGBoost never writes one): 14 bytes must not ask for a list of 2**62.
        if count is not None and count > len(self.buf) - self.pos:
            raise ValueError(f"UBJSON: container count {count} exceeds the data at byte {self.pos}")
        return kind, count

    def array(self, depth: int):
        kind, count = self.container_header(depth + 1)
        if kind in _NUMERIC:
            dt = _NUMERIC[kind]
            self._need(count * dt.itemsize)
            out = np.frombuffer(self.buf, dtype=dt, count=count, offset=self.pos).astype(dt.newbyteorder("="))
            self.pos += count * dt.itemsize
            return out
        if count is not None:
            return [self.value(kind if kind is not None else self.marker(), depth + 1) for _ in range(count)]
        out = []
        while True:
            m = self.marker()
            if m == ord("]"):
                return out
            out.append(self.value(m, depth + 1))

    def object(self, depth: int):
        kind, count = self.container_header(depth + 1)
        out = {}
        if count is not None:
            for _ in range(count):
                key = self.string()
                out[key] = self.value(kind if kind is not None else self.marker(), depth + 1)
            return out
        while True:
            if self.marker() == ord("}"):
                return out
            self.pos -= 1
            key = self.string()
            out[key] = self.value(self.marker(), depth + 1)


def loads(buf: bytes):
    """Decode one UBJSON value from buf."""
    r = _Reader(bytes(buf))
    try:
        return r.value(r.marker(), 0)
    except (UnicodeDecodeError, OverflowError, RecursionError) as exc:
        raise ValueError(f"UBJSON: malformed input ({exc})") from None
