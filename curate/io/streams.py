"""The decompressed byte stream of an input file, local or remote (gzip, zstd, bz2, xz)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager

from curate.io import fs

COMPRESSIONS = (".gz", ".zst", ".zstd", ".bz2", ".xz")


@contextmanager
def open_binary(path: str) -> Iterator[io.BufferedIOBase]:
    """The decompressed byte stream of a local or remote file."""
    name = path.split("?", 1)[0].lower()
    with fs.open_input(path) as raw:
        if name.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                yield f
        elif name.endswith((".zst", ".zstd")):
            with io.BufferedReader(ZstdReader(raw)) as f:
                yield f
        elif name.endswith(".bz2"):
            import bz2

            with bz2.BZ2File(raw, "rb") as f:
                yield f
        elif name.endswith(".xz"):
            import lzma

            with lzma.LZMAFile(raw, "rb") as f:
                yield f
        else:
            yield raw


class TruncatedStream(OSError):
    pass


class ZstdReader(io.RawIOBase):
    """Zstandard frames, one after another, decompressed as a stream. Unlike
    zstandard's stream_reader it fails on a frame cut short (a truncated download)
    instead of ending quietly where the bytes run out, and on corrupt input it first
    hands out every byte decompressed before the damage, then raises."""

    FEED = 1 << 12  # compressed bytes per decompress call: a raised error loses only the current call's output

    def __init__(self, raw, chunk: int = 1 << 17):
        import zstandard

        self._raw, self._chunk, self._zstd = raw, chunk, zstandard
        self._dobj = zstandard.ZstdDecompressor().decompressobj()
        self._started = False  # the current frame has had input
        self._pending, self._at = b"", 0  # decompressed bytes, and how many were handed out
        self._error: Exception | None = None  # raised once the bytes before it are read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._at == len(self._pending):
            if self._error is not None:
                raise self._error
            data = self._raw.read(self._chunk)
            if not data:
                if self._started and not self._dobj.eof:
                    raise TruncatedStream("zstd frame cut short (truncated file)")
                return 0
            self._pending, self._at = self._decompress(data), 0
        # an offset, not a slice: a chunk decompresses to megabytes, read 8 KB at a time
        n = min(len(buffer), len(self._pending) - self._at)
        buffer[:n] = memoryview(self._pending)[self._at : self._at + n]
        self._at += n
        return n

    def _decompress(self, data: bytes) -> bytes:
        out, view = [], memoryview(data)
        try:
            while view:
                if self._dobj.eof:  # the next frame
                    self._dobj = self._zstd.ZstdDecompressor().decompressobj()
                self._started = True
                step, view = view[: self.FEED], view[self.FEED :]
                out.append(self._dobj.decompress(step))
                if self._dobj.eof and self._dobj.unused_data:
                    view = memoryview(self._dobj.unused_data + bytes(view))
        except self._zstd.ZstdError as e:
            self._error = e
        return b"".join(out)
