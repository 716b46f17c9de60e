"""Recognising and safely extracting zip and tar archives.

Extraction never writes outside its target folder, whatever the archive says: entries with
absolute paths or ``..`` are refused, device files and FIFOs are refused, hard links must
name a file of the same archive, and symbolic links must resolve inside the target. Symlinks
are created only after every regular file has been written, so no write can pass through one,
and are checked again once all exist (a later link cannot re-aim an earlier one). The total
size and number of entries are capped (zip bombs), counting the bytes actually written rather
than what the headers claim. Where ``tarfile`` has the ``data`` filter (Python 3.12, 3.11.4+)
it runs too, as a second opinion.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from typing import IO

from ..errors import DownloadError, NotAnArchiveError, UnsafeArchiveError

__all__ = ["archive_kind", "copy_folder", "extract_archive"]

_COPY_CHUNK = 1024 * 1024
_MAX_LINK_TARGET = 4096


def archive_kind(path: str) -> str | None:
    """``"zip"``, ``"tar"`` (plain or compressed) or ``None``, judged by the bytes."""
    try:
        if zipfile.is_zipfile(path):
            return "zip"
        if tarfile.is_tarfile(path):
            return "tar"
    except OSError:
        return None
    return None


class _Budget:
    """Counts entries and bytes written against the configured limits."""

    def __init__(self, max_bytes: int, max_files: int, label: str, url: str | None) -> None:
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.label = label
        self.url = url
        self.bytes = 0
        self.files = 0

    def entry(self, name: str) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise UnsafeArchiveError(
                f"Refused {self.label}: more than {self.max_files} entries "
                f"(FIFTYONE_DOWNLOAD_MAX_FILES), at entry {name!r}",
                entry=name,
                url=self.url,
            )

    def add(self, count: int, name: str) -> None:
        self.bytes += count
        if self.bytes > self.max_bytes:
            raise UnsafeArchiveError(
                f"Refused {self.label}: it expands to more than {self.max_bytes} bytes "
                f"(FIFTYONE_DOWNLOAD_MAX_BYTES), at entry {name!r}",
                entry=name,
                url=self.url,
            )


class _Extractor:
    """Writes entries below ``dest`` after checking each one; links come last."""

    def __init__(self, dest: str, budget: _Budget) -> None:
        self.dest = dest
        self.real_dest = os.path.realpath(dest)
        self.budget = budget
        self.symlinks: list[tuple[str, str, str]] = []  # (relpath, target, entry name)
        # folders already checked to be real folders below dest: they stay so, because no
        # later entry may replace a folder (files and links refuse to), so one check each
        self.checked_folders: set[str] = set()

    def refuse(self, name: str, why: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(
            f"Refused archive entry {name!r}: {why}", entry=name, url=self.budget.url
        )

    def relpath(self, name: str) -> str | None:
        """The entry's path below ``dest`` (``None`` for the root itself), or a refusal."""
        raw = name.replace("\\", "/")
        if "\x00" in raw:
            raise self.refuse(name, "the name contains a NUL byte")
        if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
            raise self.refuse(name, "absolute path")
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise self.refuse(name, "path contains '..' and would escape the target folder")
        return os.path.join(*parts) if parts else None

    def _parent(self, rel: str, name: str) -> str:
        parent = os.path.dirname(os.path.join(self.dest, rel))
        if parent in self.checked_folders:
            return parent
        os.makedirs(parent, exist_ok=True)
        expected = os.path.join(self.real_dest, os.path.dirname(rel))
        if os.path.realpath(parent) != os.path.normpath(expected):
            raise self.refuse(name, "its folder is reached through a symbolic link")
        self.checked_folders.add(parent)
        return parent

    def mkdir(self, rel: str, name: str) -> None:
        path = os.path.join(self.dest, rel)
        self._parent(rel, name)
        if os.path.lexists(path) and not os.path.isdir(path):
            raise self.refuse(name, "a file of the same name was already extracted")
        os.makedirs(path, exist_ok=True)

    def write(self, rel: str, name: str, source: IO[bytes], mode: int) -> None:
        self._parent(rel, name)
        path = os.path.join(self.dest, rel)
        if os.path.isdir(path) and not os.path.islink(path):
            raise self.refuse(name, "a folder of the same name was already extracted")
        with open(path, "wb") as out:
            while True:
                chunk = source.read(_COPY_CHUNK)
                if not chunk:
                    break
                self.budget.add(len(chunk), name)
                out.write(chunk)
        # keep the executable bits, drop setuid/setgid/sticky and group/other write
        os.chmod(path, (mode & 0o755 | 0o600) if mode else 0o644)

    def check_hardlink(self, name: str, target: str) -> str:
        """The hard link's target below ``dest``; it must name an earlier regular file."""
        try:
            target_rel = self.relpath(target)
        except UnsafeArchiveError:
            target_rel = None
        source = os.path.join(self.dest, target_rel) if target_rel else ""
        if not target_rel or not os.path.isfile(source) or os.path.islink(source):
            raise self.refuse(
                name,
                f"hard link to {target!r}, which is not a file extracted earlier "
                "from this archive",
            )
        return source

    def hardlink(self, rel: str, name: str, target: str) -> None:
        source = self.check_hardlink(name, target)
        with open(source, "rb") as f:  # a copy: the budget counts it, nothing is shared
            self.write(rel, name, f, stat.S_IMODE(os.stat(source).st_mode))

    def check_symlink(self, rel: str, name: str, target: str) -> None:
        """Lexical checks; :meth:`finish_links` checks the resolved target later."""
        if not target or target.startswith("/") or re.match(r"^[A-Za-z]:", target):
            raise self.refuse(name, f"symbolic link to absolute path {target!r}")
        lexical = os.path.normpath(os.path.join(os.path.dirname(rel), target))
        if lexical == ".." or lexical.startswith(".." + os.sep) or "\x00" in target:
            raise self.refuse(name, f"symbolic link to {target!r} points outside the archive")

    def symlink(self, rel: str, name: str, target: str) -> None:
        self.check_symlink(rel, name, target)
        self.symlinks.append((rel, target, name))

    def finish_links(self) -> None:
        """Creates the deferred symlinks, then checks that each resolves inside ``dest``."""
        created = []
        for rel, target, name in self.symlinks:
            self._parent(rel, name)
            path = os.path.join(self.dest, rel)
            if os.path.lexists(path):
                if os.path.isdir(path) and not os.path.islink(path):
                    raise self.refuse(name, "a folder of the same name was already extracted")
                os.unlink(path)
            os.symlink(target, path)
            created.append((path, target, name))
        for path, target, name in created:
            real = os.path.realpath(path)
            if real != self.real_dest and not real.startswith(self.real_dest + os.sep):
                raise self.refuse(name, f"symbolic link to {target!r} points outside the archive")


def extract_archive(
    path: str,
    dest: str,
    *,
    max_bytes: int,
    max_files: int,
    label: str | None = None,
    url: str | None = None,
) -> None:
    """Extracts the zip or tar archive ``path`` into the (new or empty) folder ``dest``."""
    label = label or os.path.basename(path)
    kind = archive_kind(path)
    if kind is None:
        raise NotAnArchiveError(f"{label} is not a zip or tar archive", url=url)
    os.makedirs(dest, exist_ok=True)
    extractor = _Extractor(dest, _Budget(max_bytes, max_files, label, url))
    try:
        if kind == "zip":
            _extract_zip(path, extractor)
        else:
            _extract_tar(path, extractor)
        extractor.finish_links()
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
        raise NotAnArchiveError(f"{label} is a corrupt or truncated archive: {e}", url=url) from e
    except UnicodeDecodeError as e:
        raise NotAnArchiveError(
            f"{label} has an entry name that is not valid text", url=url
        ) from e
    except OSError as e:
        raise DownloadError(
            f"Cannot extract {label} into {dest}: {e.strerror or e}", url=url
        ) from e


def _extract_zip(path: str, ex: _Extractor) -> None:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        declared = 0
        for index, info in enumerate(infos):  # refuse an obvious bomb before writing anything
            if index >= ex.budget.max_files:
                ex.budget.files = index
                ex.budget.entry(info.filename)
            declared += info.file_size
            if declared > ex.budget.max_bytes:
                ex.budget.add(declared, info.filename)
        for info in infos:  # headers can lie: what is written is counted again
            name = info.filename
            rel = ex.relpath(name)
            mode = info.external_attr >> 16 if info.create_system == 3 else 0
            kind = stat.S_IFMT(mode)
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
                raise ex.refuse(name, "device files, FIFOs and sockets are not allowed")
            if rel is None:
                continue
            if info.is_dir() or kind == stat.S_IFDIR:
                ex.mkdir(rel, name)
            elif kind == stat.S_IFLNK:
                with zf.open(info) as f:
                    target = f.read(_MAX_LINK_TARGET + 1)
                if len(target) > _MAX_LINK_TARGET:
                    raise ex.refuse(name, "symbolic link target is too long")
                ex.symlink(rel, name, target.decode("utf-8"))
            else:
                with zf.open(info) as f:
                    ex.write(rel, name, f, stat.S_IMODE(mode))


def _extract_tar(path: str, ex: _Extractor) -> None:
    data_filter = getattr(tarfile, "data_filter", None)
    with tarfile.open(path, "r:*") as tf:
        for member in tf:  # streamed: limits apply before the whole archive is read
            name = member.name
            ex.budget.entry(name)
            rel = ex.relpath(name)
            if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
                raise ex.refuse(name, "device files, FIFOs and sockets are not allowed")
            if member.issym():
                ex.check_symlink(rel or ".", name, member.linkname)
            elif member.islnk():
                ex.check_hardlink(name, member.linkname)
            if data_filter is not None:  # a second opinion, where Python has it
                try:
                    member = data_filter(member, ex.dest) or member
                except tarfile.TarError as e:
                    why = f"refused by tarfile's data filter ({type(e).__name__})"
                    raise ex.refuse(name, why) from e
            if rel is None:
                continue
            if member.isdir():
                ex.mkdir(rel, name)
            elif member.issym():
                ex.symlink(rel, name, member.linkname)
            elif member.islnk():
                ex.hardlink(rel, name, member.linkname)
            else:
                source = tf.extractfile(member)
                if source is None:  # pragma: no cover - isreg() members always have data
                    raise ex.refuse(name, "unreadable entry")
                with source:
                    ex.write(rel, name, source, member.mode or 0o644)


def copy_folder(
    src: str, dest: str, *, max_bytes: int, max_files: int, skip: str | None = None
) -> None:
    """Copies a local plugin folder for staging (``.git`` left out, symlinks kept as links).

    ``skip`` (the staging folder, when ``src`` contains it) is never copied into itself.
    """
    budget = _Budget(max_bytes, max_files, src, None)
    skipped = os.path.realpath(skip) if skip else None

    def ignore(folder: str, names: list[str]) -> list[str]:
        left_out = []
        for entry in names:
            path = os.path.join(folder, entry)
            if entry == ".git" or (skipped and os.path.realpath(path) == skipped):
                left_out.append(entry)
                continue
            budget.entry(path)
        return left_out

    try:
        shutil.copytree(src, dest, symlinks=True, ignore=ignore)
    except shutil.Error as e:
        errors = e.args[0] if e.args and isinstance(e.args[0], list) else []
        first = f"{errors[0][0]}: {errors[0][2]}" if errors and len(errors[0]) == 3 else str(e)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DownloadError(f"Cannot copy {src}: {first}{more}") from e
    except OSError as e:
        raise DownloadError(f"Cannot copy {src}: {e.strerror or e}") from e
