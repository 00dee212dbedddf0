"""Paths on any filesystem pyarrow knows: local paths, file://, s3://, gs://, hdfs://.

Inputs are streamed straight from the filesystem. A remote output is built in a
local folder and uploaded at the end, manifest last, so readers of the bucket
never see a half-written run.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
from pathlib import Path

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


def local_workdir(uri: str) -> Path:
    """Where a remote output is built before upload (CURATE_CACHE, default ~/.cache/curate)."""
    root = Path(os.environ.get("CURATE_CACHE", Path.home() / ".cache" / "curate"))
    return root / hashlib.sha256(uri.encode()).hexdigest()[:16]


def publish_remote(local: Path, uri: str, folders: list[str], last: list[str]) -> None:
    """Replace `folders` under uri with the local ones, then upload the `last` files."""
    fs, base = resolve(uri)
    fs.create_dir(base, recursive=True)
    manifest = f"{base}/manifest.json"
    if fs.get_file_info(manifest).type != pafs.FileType.NotFound:
        fs.delete_file(manifest)  # the run is incomplete from here until the new manifest lands
    for folder in folders:
        remote = f"{base}/{folder}"
        if fs.get_file_info(remote).type != pafs.FileType.NotFound:
            fs.delete_dir(remote)
        if (local / folder).exists():
            fs.create_dir(remote, recursive=True)  # a store with real folders (hdfs://) needs it
            pafs.copy_files(
                str(local / folder), remote, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs
            )
    for name in last:
        if (local / name).exists():
            pafs.copy_files(
                str(local / name), f"{base}/{name}", source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs
            )
