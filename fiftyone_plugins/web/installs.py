"""Plugin installs started from the Plugins page, run in background threads.

A download can take a while, so the page starts one (:meth:`InstallJobs.start`) and follows
its progress over a live event stream. Each :class:`InstallJob` records the bytes received,
then the same outcome rows as ``plugins download`` prints (installed, overwritten, skipped,
invalid, ignored) or the same one-line errors, since both come from
:func:`fiftyone_plugins.download_plugin`.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["InstallJob", "InstallJobs"]


@dataclasses.dataclass
class InstallJob:
    """One install: its request, how far the download got and how it ended."""

    id: str
    source: str
    plugin_names: list[str] | None = None
    state: str = "running"  # running, completed, failed
    done: int = 0
    total: int | None = None
    rows: list[dict[str, str]] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    summary: str | None = None
    started: float = dataclasses.field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _rows(result: Any) -> list[dict[str, str]]:
    rows = []
    for name, directory in result.items():
        status = "overwritten" if name in result.overwritten else "installed"
        rows.append({"plugin": name, "status": status, "directory": directory, "note": ""})
    for name, directory in result.skipped.items():
        note = "already installed; tick Overwrite to replace it"
        rows.append({"plugin": name, "status": "skipped", "directory": directory, "note": note})
    for error in result.errors:
        rows.append(
            {
                "plugin": getattr(error, "name", None) or "-",
                "status": "invalid",
                "directory": str(error.path),
                "note": str(error.reason),
            }
        )
    for path, why in result.ignored.items():
        rows.append({"plugin": "-", "status": "ignored", "directory": path, "note": why})
    return rows


class InstallJobs:
    """The installs of one running app, kept in memory (the last 50)."""

    def __init__(self) -> None:
        self._jobs: dict[str, InstallJob] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def get(self, job_id: str) -> InstallJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else dataclasses.replace(job)

    def start(
        self,
        source: str,
        plugin_names: Sequence[str] | None = None,
        max_depth: int = 3,
        overwrite: bool = False,
    ) -> InstallJob:
        """Starts downloading ``source`` in a thread and returns the new job."""
        names = list(plugin_names) if plugin_names else None
        job = InstallJob(id=str(next(self._ids)), source=source, plugin_names=names)
        with self._lock:
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-50]:
                del self._jobs[old]
        thread = threading.Thread(
            target=self._run,
            args=(job, names, max_depth, overwrite),
            name=f"install {job.id}",
            daemon=True,
        )
        thread.start()
        return dataclasses.replace(job)

    def _run(
        self, job: InstallJob, names: list[str] | None, max_depth: int, overwrite: bool
    ) -> None:
        import fiftyone_plugins as fop

        from ..errors import FiftyOnePluginsError

        def progress(done: int, total: int | None) -> None:
            with self._lock:
                job.done, job.total = done, total

        try:
            result = fop.download_plugin(
                job.source,
                plugin_names=names,
                max_depth=max_depth,
                overwrite=overwrite,
                progress=progress,
            )
        except FiftyOnePluginsError as e:
            with self._lock:
                job.errors = str(e).splitlines() or [type(e).__name__]
                job.state = "failed"
            return
        except Exception as e:  # an unexpected failure is still one line for the page
            with self._lock:
                job.errors = [f"{type(e).__name__}: {e}"]
                job.state = "failed"
            return
        summary = f"Installed {len(result)} plugin(s) from {result.source}"
        if result.skipped:
            summary += f"; skipped {len(result.skipped)} already installed"
        with self._lock:
            job.rows = _rows(result)
            job.errors = [str(e) for e in result.errors]
            job.summary = summary
            job.state = "failed" if result.errors else "completed"
