"""Builtin operators: ``print_stdout`` and ``list_files`` (both unlisted, as in FiftyOne)."""

from __future__ import annotations

import datetime
import os
from typing import Any

import fiftyone_plugins.operators as foo


class PrintStdout(foo.Operator):
    """Prints ``params["msg"]`` to the standard output of the executing process."""

    @property
    def config(self) -> foo.OperatorConfig:
        return foo.OperatorConfig(name="print_stdout", label="Print to stdout", unlisted=True)

    def resolve_input(self, ctx: Any) -> Any:
        from fiftyone_plugins.operators import types

        inputs = types.Object()
        inputs.str("msg", label="Message", required=True)
        return types.Property(inputs)

    def execute(self, ctx: Any) -> None:
        print(ctx.params["msg"], flush=True)

    def __call__(self, msg: str, **kwargs: Any) -> Any:
        return foo.execute_operator(self.uri, params={"msg": msg}, **kwargs)


def _describe(entry: os.DirEntry[str]) -> dict[str, Any] | None:
    try:
        st = entry.stat()
        is_dir = entry.is_dir()
    except OSError:
        return None
    return {
        "name": entry.name,
        "type": "directory" if is_dir else "file",
        "size": None if is_dir else st.st_size,
        "date_modified": datetime.datetime.fromtimestamp(st.st_mtime).isoformat(),
        "absolute_path": os.path.abspath(entry.path),
    }


class ListFiles(foo.Operator):
    """Lists a folder (``params["path"]``) or, with ``list_filesystems``, the filesystems."""

    @property
    def config(self) -> foo.OperatorConfig:
        return foo.OperatorConfig(name="list_files", label="List files", unlisted=True)

    def execute(self, ctx: Any) -> dict[str, Any]:
        if ctx.params.get("list_filesystems"):
            home = os.path.expanduser("~")
            return {"filesystems": [{"name": "local", "default_path": home}]}
        path = os.path.expanduser(ctx.params.get("path") or os.getcwd())
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            return {"error": f"Cannot list {path}: {e.strerror or e}", "files": []}
        files = [d for d in (_describe(e) for e in entries) if d is not None]
        return {"files": files}

    def __call__(self, path: str | None = None, list_filesystems: bool = False) -> Any:
        return foo.execute_operator(
            self.uri, params={"path": path, "list_filesystems": list_filesystems}
        )


def register(p: Any) -> None:
    p.register(PrintStdout)
    p.register(ListFiles)
