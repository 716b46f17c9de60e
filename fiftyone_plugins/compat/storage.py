"""``fiftyone.core.storage`` for plugins: FiftyOne's file helpers, for local paths.

Plugins build paths and write files through FiftyOne's storage module (``fos.join``,
``fos.write_file``, ``fos.isdir``, ...) so that the same code works on FiftyOne's cloud-backed
deployments. Open-source FiftyOne only has the local file system, and so does this module:
every path is local (:func:`is_local` is always true), and the helpers are thin wrappers over
``os``, ``shutil``, ``glob`` and ``json``. Each works on one path or a list of paths the way
FiftyOne's does; ``num_workers``/``progress`` arguments are accepted and the work is done in
the calling thread.
"""

from __future__ import annotations

import enum
import glob as _glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = [
    "FileSystem",
    "abspath",
    "copy_dir",
    "copy_file",
    "copy_files",
    "delete_dir",
    "delete_file",
    "delete_files",
    "ensure_basedir",
    "ensure_dir",
    "ensure_empty_dir",
    "ensure_local",
    "exists",
    "get_bucket_name",
    "get_file_size",
    "get_file_system",
    "get_glob_matches",
    "get_glob_root",
    "isabs",
    "isdir",
    "isfile",
    "join",
    "list_available_file_systems",
    "list_files",
    "list_subdirs",
    "load_json",
    "make_temp_dir",
    "move_dir",
    "move_file",
    "move_files",
    "normalize_path",
    "normpath",
    "open_file",
    "read_file",
    "read_json",
    "realpath",
    "sep",
    "split_prefix",
    "write_file",
    "write_json",
]


class FileSystem(enum.Enum):
    """The file systems paths may live on; only the local one here."""

    LOCAL = "local"


def get_file_system(path: str) -> FileSystem:
    return FileSystem.LOCAL


def list_available_file_systems() -> list[FileSystem]:
    return [FileSystem.LOCAL]


def split_prefix(path: str) -> tuple[str, str]:
    """``(prefix, path)``; local paths have no prefix."""
    return "", path


def get_bucket_name(path: str) -> str:
    return ""


def is_local(path: str) -> bool:
    return True


def ensure_local(path: str) -> None:
    """Accepts any path: every path is local here."""


def sep(path: str | None = None) -> str:
    return os.sep


def join(a: str, *paths: str) -> str:
    return os.path.join(a, *paths)


def normpath(path: str) -> str:
    return os.path.normpath(path)


def realpath(path: str) -> str:
    return os.path.realpath(path)


def abspath(path: str) -> str:
    return os.path.abspath(path)


def isabs(path: str) -> bool:
    return os.path.isabs(path)


def normalize_path(path: str) -> str:
    """The absolute path, ``~`` expanded."""
    return os.path.abspath(os.path.expanduser(path))


def exists(path: str) -> bool:
    return os.path.exists(path)


def isfile(path: str) -> bool:
    return os.path.isfile(path)


def isdir(dirpath: str) -> bool:
    return os.path.isdir(dirpath)


def get_file_size(path: str) -> int:
    return os.path.getsize(path)


def ensure_dir(dirpath: str) -> None:
    os.makedirs(dirpath, exist_ok=True)


def ensure_basedir(path: str) -> None:
    """Makes the folder that will hold ``path``."""
    base = os.path.dirname(path)
    if base:
        os.makedirs(base, exist_ok=True)


def ensure_empty_dir(dirpath: str, cleanup: bool = False) -> None:
    """Makes ``dirpath`` exist and be empty; an existing non-empty one is emptied only with
    ``cleanup``, else it is an error."""
    if os.path.isdir(dirpath) and os.listdir(dirpath):
        if not cleanup:
            raise ValueError(f"Directory {dirpath!r} is not empty")
        shutil.rmtree(dirpath)
    os.makedirs(dirpath, exist_ok=True)


def make_temp_dir(basedir: str | None = None) -> str:
    if basedir is not None:
        os.makedirs(basedir, exist_ok=True)
    return tempfile.mkdtemp(dir=basedir)


@contextmanager
def open_file(path: str, mode: str = "r") -> Iterator[IO[Any]]:
    """``open(path, mode)``; the folder is made first when writing."""
    if any(c in mode for c in "wax"):
        ensure_basedir(path)
    with open(path, mode) as f:
        yield f


def read_file(path: str, binary: bool = False) -> str | bytes:
    with open(path, "rb" if binary else "r") as f:
        data: str | bytes = f.read()
    return data


def write_file(str_or_bytes: str | bytes, path: str) -> None:
    """Writes text or bytes to ``path``, making its folder first."""
    ensure_basedir(path)
    mode = "wb" if isinstance(str_or_bytes, bytes) else "w"
    with open(path, mode) as f:
        f.write(str_or_bytes)


def load_json(path_or_str: str) -> Any:
    """JSON from a file, or from the string itself when it is not a file."""
    if os.path.isfile(path_or_str):
        return read_json(path_or_str)
    return json.loads(path_or_str)


def read_json(path: str) -> Any:
    with open(path) as f:
        return json.load(f)


def write_json(d: Any, path: str, pretty_print: bool = False) -> None:
    ensure_basedir(path)
    with open(path, "w") as f:
        json.dump(d, f, indent=4 if pretty_print else None)


def list_files(
    dirpath: str,
    abs_paths: bool = False,
    recursive: bool = False,
    include_hidden_files: bool = False,
    return_metadata: bool = False,
    sort: bool = True,
) -> list[Any]:
    """The files below ``dirpath`` (relative paths unless ``abs_paths``); with
    ``return_metadata``, dicts of ``filepath``, ``file_size`` and ``last_modified``."""
    found: list[str] = []
    if recursive:
        for root, dirs, files in os.walk(dirpath):
            if not include_hidden_files:
                dirs[:] = [d for d in dirs if not d.startswith(".")]
            found.extend(os.path.relpath(os.path.join(root, f), dirpath) for f in files)
    elif os.path.isdir(dirpath):
        found = [f for f in os.listdir(dirpath) if os.path.isfile(os.path.join(dirpath, f))]
    if not include_hidden_files:
        found = [f for f in found if not os.path.basename(f).startswith(".")]
    if sort:
        found.sort()
    paths = [os.path.join(dirpath, f) for f in found] if abs_paths else found
    if not return_metadata:
        return paths
    out = []
    for shown, rel in zip(paths, found, strict=True):
        st = os.stat(os.path.join(dirpath, rel))
        out.append({"filepath": shown, "file_size": st.st_size, "last_modified": st.st_mtime})
    return out


def list_subdirs(dirpath: str, abs_paths: bool = False, recursive: bool = False) -> list[str]:
    """The folders below ``dirpath`` (hidden ones left out)."""
    found: list[str] = []
    if recursive:
        for root, dirs, _ in os.walk(dirpath):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(os.path.relpath(os.path.join(root, d), dirpath) for d in dirs)
    elif os.path.isdir(dirpath):
        found = sorted(
            d
            for d in os.listdir(dirpath)
            if not d.startswith(".") and os.path.isdir(os.path.join(dirpath, d))
        )
    return [os.path.join(dirpath, d) for d in found] if abs_paths else found


def get_glob_matches(glob_patt: str) -> list[str]:
    return sorted(_glob.glob(os.path.expanduser(glob_patt), recursive=True))


def get_glob_root(glob_patt: str) -> tuple[str, bool]:
    """``(root, found_special)``: the folder before the first glob character, and whether
    there was one."""
    parts = glob_patt.split(os.sep)
    for i, part in enumerate(parts):
        if any(c in part for c in "*?["):
            return os.sep.join(parts[:i]), True
    return glob_patt, False


def _pairs(inpaths: Iterable[str], outpaths: Iterable[str]) -> list[tuple[str, str]]:
    return list(zip(inpaths, outpaths, strict=True))


def copy_file(inpath: str, outpath: str) -> None:
    ensure_basedir(outpath)
    shutil.copy2(inpath, outpath)


def copy_files(
    inpaths: Iterable[str], outpaths: Iterable[str], skip_failures: bool = False, **_: Any
) -> None:
    for src, dst in _pairs(inpaths, outpaths):
        try:
            copy_file(src, dst)
        except OSError:
            if not skip_failures:
                raise


def copy_dir(
    indir: str, outdir: str, overwrite: bool = True, skip_failures: bool = False, **_: Any
) -> None:
    """Copies a folder's contents into ``outdir`` (emptied first with ``overwrite``)."""
    if overwrite and os.path.isdir(outdir):
        shutil.rmtree(outdir)
    shutil.copytree(indir, outdir, dirs_exist_ok=True)


def move_file(inpath: str, outpath: str) -> None:
    ensure_basedir(outpath)
    shutil.move(inpath, outpath)


def move_files(
    inpaths: Iterable[str], outpaths: Iterable[str], skip_failures: bool = False, **_: Any
) -> None:
    for src, dst in _pairs(inpaths, outpaths):
        try:
            move_file(src, dst)
        except OSError:
            if not skip_failures:
                raise


def move_dir(
    indir: str, outdir: str, overwrite: bool = True, skip_failures: bool = False, **_: Any
) -> None:
    if overwrite and os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(indir):
        shutil.move(os.path.join(indir, name), os.path.join(outdir, name))
    os.rmdir(indir)


def delete_file(path: str) -> None:
    """Deletes a file and any folders it leaves empty above it."""
    os.remove(path)
    base = os.path.dirname(path)
    try:
        while base and not os.listdir(base):
            os.rmdir(base)
            base = os.path.dirname(base)
    except OSError:
        pass


def delete_files(paths: Iterable[str], skip_failures: bool = False, **_: Any) -> None:
    for path in paths:
        try:
            delete_file(path)
        except OSError:
            if not skip_failures:
                raise


def delete_dir(dirpath: str) -> None:
    shutil.rmtree(dirpath, ignore_errors=True)
