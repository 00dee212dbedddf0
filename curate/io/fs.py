"""Paths on any filesystem pyarrow knows: local paths, file://, s3://, gs://, hdfs://.

Inputs are streamed straight from the filesystem, and an output (its staged run,
decisions, shards and report) is written straight to it: every file appears under
its name only once it is complete (``AtomicOutput``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
from contextlib import contextmanager

import pyarrow.fs as pafs


def is_uri(path: str) -> bool:
    return "://" in path


def resolve(path: str) -> tuple[pafs.FileSystem, str]:
    if is_uri(path):
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), os.path.abspath(path)


def _join(uri_or_path: str, fs_path: str, original_fs_path: str) -> str:
    """Rebuild a URI for fs_path that keeps the scheme and query of the original."""
    if not is_uri(uri_or_path):
        return fs_path
    scheme, rest = uri_or_path.split("://", 1)
    query = rest.split("?", 1)[1] if "?" in rest else ""
    if scheme == "file":
        return f"file://{fs_path}"
    return f"{scheme}://{fs_path}" + (f"?{query}" if query else "")


def local_path(path: str) -> str | None:
    """The local path a plain path or a file:// URI names; None for other filesystems."""
    if not is_uri(path):
        return path
    if path.startswith("file://"):
        return resolve(path)[1]
    return None


def info(path: str) -> pafs.FileInfo:
    fs, p = resolve(path)
    return fs.get_file_info(p)


def exists(path: str) -> bool:
    return info(path).type != pafs.FileType.NotFound


def is_file(path: str) -> bool:
    return info(path).type == pafs.FileType.File


def is_dir(path: str) -> bool:
    return info(path).type == pafs.FileType.Directory


def size(path: str) -> int:
    return info(path).size


def identity(path: str) -> str:
    """Path, size and modification time: changes when the file does."""
    i = info(path)
    mtime = i.mtime_ns if i.mtime_ns is not None else 0
    return f"{path}\0{i.size}\0{mtime}"


def open_input(path: str):
    """A buffered binary stream (no transparent decompression: the readers handle that).

    pyarrow's own streams cannot iterate lines (NativeFile.readline is unsupported
    on a plain stream), so a remote one is wrapped like a local file."""
    if not is_uri(path):
        return open(path, "rb")
    fs, p = resolve(path)
    return io.BufferedReader(fs.open_input_stream(p, compression=None), buffer_size=1 << 20)


def open_random_access(path: str):
    """A seekable file (Parquet reads its footer first)."""
    if not is_uri(path):
        return open(path, "rb")
    fs, p = resolve(path)
    return fs.open_input_file(p)


def list_files(path: str) -> list[str]:
    """Every file under a folder, sorted."""
    fs, p = resolve(path)
    infos = fs.get_file_info(pafs.FileSelector(p, recursive=True))
    return sorted(_join(path, i.path, p) for i in infos if i.type == pafs.FileType.File)


def list_relative(folder: str) -> list[str]:
    """Every file under a folder as a path relative to it, sorted; none if it is not there."""
    fs, p = resolve(folder)
    selector = pafs.FileSelector(p, recursive=True, allow_not_found=True)
    return sorted(i.path[len(p.rstrip("/")) + 1 :] for i in fs.get_file_info(selector) if i.type == pafs.FileType.File)


def glob(pattern: str) -> list[str]:
    """Files matching a glob (*, ?, [..], ** across folders)."""
    fs, p = resolve(pattern)
    base = p
    while any(ch in base for ch in "*?["):
        base = os.path.dirname(base)
    try:
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    except (FileNotFoundError, OSError):
        return []
    regex = fnmatch.translate(p.replace("**/", "*").replace("**", "*"))
    import re

    rx = re.compile(regex)
    return sorted(_join(pattern, i.path, p) for i in infos if i.type == pafs.FileType.File and rx.match(i.path))


def sha256(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open_input(path) as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def join(base: str, *names: str) -> str:
    """base/name/..., a URI keeping its scheme and query (s3://b/run?region=x -> s3://b/run/shards?region=x)."""
    base = os.fspath(base)
    if not is_uri(base):
        return os.path.join(base, *names)
    head, sep, query = base.partition("?")
    return "/".join([head.rstrip("/"), *names]) + sep + query


def suffixed(path: str, suffix: str) -> str:
    """path + suffix, before a URI's query (s3://b/d?region=x -> s3://b/d.tmp?region=x)."""
    head, sep, query = os.fspath(path).partition("?") if is_uri(path) else (os.fspath(path), "", "")
    return head.rstrip("/") + suffix + sep + query


def name(path: str) -> str:
    """The last part of a path or URI (without the URI's query)."""
    return path.partition("?")[0].rstrip("/").rsplit("/", 1)[-1] if is_uri(path) else os.path.basename(path)


def makedirs(path: str) -> None:
    """A folder and its parents; nothing on an object store, whose folders are only key
    prefixes (a marker object would cost requests and show as an empty folder)."""
    if not is_uri(path):
        os.makedirs(path, exist_ok=True)
        return
    fs, p = resolve(path)
    if fs.type_name not in OBJECT_STORES:
        fs.create_dir(p, recursive=True)


def remove(path: str) -> None:
    """Delete a file if it is there."""
    fs, p = resolve(path)
    if fs.get_file_info(p).type == pafs.FileType.File:
        fs.delete_file(p)


def remove_tree(path: str) -> None:
    """Delete a folder and everything under it, if it is there."""
    fs, p = resolve(path)
    if fs.get_file_info(p).type == pafs.FileType.Directory:
        fs.delete_dir(p)


def read_text(path: str) -> str:
    with open_input(path) as f:
        return f.read().decode("utf-8")


def parquet_file(path: str):
    """A pq.ParquetFile on any filesystem, read through pyarrow's own filesystem layer."""
    import pyarrow.parquet as pq

    if not is_uri(path):
        return pq.ParquetFile(path)
    fs, p = resolve(path)
    return pq.ParquetFile(p, filesystem=fs)


def read_table(path: str, columns: list[str] | None = None):
    """A Parquet file read whole (pq.read_table) on any filesystem."""
    import pyarrow.parquet as pq

    if not is_uri(path):
        return pq.read_table(path, columns=columns)
    fs, p = resolve(path)
    return pq.read_table(p, columns=columns, filesystem=fs)


OBJECT_STORES = ("s3", "gcs")  # pyarrow filesystem type names: no folders, no rename, atomic uploads


class AtomicOutput:
    """A binary stream that becomes ``path`` only once committed.

    Object store: a single PUT (or a multipart upload completed on close) is atomic, so
    the stream writes the final name and a killed writer leaves no object; a discarded
    stream is closed and its object deleted (pyarrow cannot abort an upload). Elsewhere:
    a temporary name moved into place (locally fsynced first, then os.replace)."""

    def __init__(self, path: str):
        self.path = path
        self.fs, self._target = resolve(path)
        self._direct = self.fs.type_name in OBJECT_STORES
        self._written = self._target if self._direct else f"{self._target}.tmp-{os.getpid()}"
        if self.fs.type_name == "local":
            os.makedirs(os.path.dirname(self._target), exist_ok=True)
        self.stream = self.fs.open_output_stream(self._written, compression=None)

    def commit(self) -> None:
        self.stream.close()
        if self._direct:
            return
        if self.fs.type_name == "local":
            with open(self._written, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(self._written, self._target)
        else:
            self.fs.move(self._written, self._target)

    def discard(self) -> None:
        self.stream.close()
        self.fs.delete_file(self._written)


@contextmanager
def open_output(path: str):
    """``with open_output(path) as f: f.write(...)``: ``path`` appears, whole, only
    when the block ends without an error."""
    out = AtomicOutput(path)
    try:
        yield out.stream
    except BaseException:
        out.discard()
        raise
    out.commit()


def write_text(path: str, text: str) -> None:
    with open_output(path) as f:
        f.write(text.encode("utf-8"))
