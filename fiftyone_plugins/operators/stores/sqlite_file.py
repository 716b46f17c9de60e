"""One SQLite file opened safely by many processes and threads: the connection under
:class:`~.sqlite.SQLiteStore`.

Safety across processes comes from SQLite itself: WAL journaling (readers never block the
writer), a busy timeout (writers wait for each other instead of failing) and ``BEGIN
IMMEDIATE`` transactions around every read-modify-write (:meth:`SQLiteFile._tx`; a lone
insert is a transaction of its own, :meth:`SQLiteFile._write_one`). The
connection is opened lazily per process (never shared across a fork) and guarded by a lock so
threads can share it.

A file that is not a SQLite database, or one locked for longer than the timeout, becomes a
:class:`~fiftyone_plugins.errors.StoreError` naming the file; so does a location that cannot
be written (with a hint about read-only file systems and permissions). A write the file refuses
for its data (too big, the disk full) is an
:class:`~fiftyone_plugins.errors.UnstorableRecordError`. A file deleted or replaced while open
is noticed on the next call (its device and inode no longer match the path's) and the path is
reopened, as on first use, with one warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ...errors import StoreError, UnstorableRecordError
from .base import STORE_SETTING

__all__ = ["SQLiteFile", "run_migration"]

logger = logging.getLogger(__name__.rpartition(".")[0] + ".sqlite")


def run_migration(
    conn: sqlite3.Connection, below: int, step: Callable[[sqlite3.Connection], None]
) -> None:
    """Runs the migration ``step`` on a file whose schema is older than version ``below`` (a
    new file, version 0, gets the whole schema instead), as one ``BEGIN IMMEDIATE``
    transaction. ``step`` first looks at what the file holds, so processes opening an old file
    at once are safe; a failure rolls the step back whole."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if not 0 < version < below:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        step(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SQLiteFile:
    """The connection to one SQLite file; subclasses say what schema it holds.

    ``timeout`` is how long a writer waits for another process's lock before giving up with a
    :class:`StoreError` (the busy timeout).
    """

    #: the ``PRAGMA user_version`` the schema brings the file to
    SCHEMA_VERSION = 1
    #: statements creating the schema (each idempotent)
    SCHEMA = ""

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = float(timeout)
        self.description = path
        self._lock = threading.RLock()
        self._conn_obj: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the opened file

    # -- connection and errors -------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as e:
            raise self._store_error(e) from e

    def _store_error(self, e: sqlite3.DatabaseError) -> StoreError:
        text = str(e)
        lowered = text.lower()
        if "locked" in lowered or "busy" in lowered:
            return StoreError(
                f"The delegated-operation store {self.path} is locked by another process "
                f"(waited {self.timeout:g} s); try again later"
            )
        if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
            return StoreError(
                f"The delegated-operation store {self.path} is corrupt or not a SQLite "
                f"database ({text}); move it aside to start a new store"
            )
        if "unable to open database file" in lowered or "readonly database" in lowered:
            return StoreError(
                f"The delegated-operation store {self.path} failed: {text}. The store needs "
                "write access to the file and to its folder (for its -wal and -shm files): is "
                "the location read-only, or are permissions missing? Fix them or point "
                f"{STORE_SETTING} at a writable location"
            )
        if "too big" in lowered or "is full" in lowered:
            return UnstorableRecordError(
                f"The delegated-operation store {self.path} refused the data: {text}"
            )
        return StoreError(f"The delegated-operation store {self.path} failed: {text}")

    def _file_identity(self) -> tuple[int, int] | None:
        """``(st_dev, st_ino)`` of the file the path names now; None if there is none."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _is_stale(self) -> bool:
        """True when the path no longer names the opened file (deleted or replaced).

        One ``stat`` per store call (each public method opens one transaction or read).
        """
        if self._identity is None:
            return False
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return True
        except OSError:  # cannot tell (e.g. a permission change): keep the open file
            return False
        return (st.st_dev, st.st_ino) != self._identity

    def _conn(self) -> sqlite3.Connection:
        if self._conn_obj is not None and self._pid == os.getpid():
            if not self._is_stale():
                return self._conn_obj
            logger.warning(
                "The delegated-operation store %s was %s while open; reopening the path "
                "(operations only in the old file are gone)",
                self.path,
                "replaced" if os.path.exists(self.path) else "deleted",
            )
            with contextlib.suppress(sqlite3.Error):
                # The -wal file at the path may still be the old database's (when only the
                # main file was deleted or replaced): SQLite would replay it into the new
                # file. Checkpointing into the old file (unlinked or moved) and truncating
                # the WAL leaves nothing to replay. A -wal deleted with the main file is an
                # unlinked file too, so a new one at the path is never touched. (A -wal left
                # behind and already written through a new file by another process cannot be
                # paired safely by anyone: hence "delete the -wal and -shm with it".)
                self._conn_obj.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with contextlib.suppress(sqlite3.Error):  # SQLite leaves a moved file's WAL alone
                self._conn_obj.close()
        self._conn_obj = None
        self._identity = None
        if self.path != ":memory:":
            folder = os.path.dirname(self.path)
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as e:
                raise StoreError(
                    f"Cannot create the folder of the delegated-operation store {self.path}: "
                    f"{e.strerror}"
                ) from e
        with self._errors():
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            try:
                self._prepare(conn)
            except BaseException:
                conn.close()
                raise
        self._conn_obj, self._pid = conn, os.getpid()
        if self.path != ":memory:":
            self._identity = self._file_identity()
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < self.SCHEMA_VERSION:
            # each statement is idempotent, so processes opening a new file at once are safe
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(self.SCHEMA)
            conn.execute(f"PRAGMA user_version={self.SCHEMA_VERSION}")
        conn.execute("PRAGMA synchronous=NORMAL")

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the lock is taken up front, so check-then-write is atomic."""
        with self._lock:
            conn = self._conn()
            with self._errors():
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")

    def _write_one(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> None:
        """One statement that needs no read first (an insert): SQLite runs a lone statement
        as its own transaction, so the ``BEGIN IMMEDIATE``/``COMMIT`` pair of :meth:`_tx`
        would only add two round trips into the library (on every queued operation)."""
        with self._lock:
            conn = self._conn()
            try:
                conn.execute(sql, params)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.DatabaseError as e:
                raise self._store_error(e) from e

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            conn = self._conn()
            with self._errors():
                return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn_obj is not None and self._pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    self._conn_obj.close()
            self._conn_obj = None
            self._identity = None
