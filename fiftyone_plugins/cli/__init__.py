"""The ``fiftyone-plugins`` command line: a thin layer that parses, calls the API and prints.

Each command group lives in its own module exposing ``register(subparsers)``; a leaf command
sets ``handler=fn`` where ``fn(args) -> int | None``. Domain errors are turned into one line
on stderr and the error's exit code here, in one place; ``--debug`` or
``FIFTYONE_PLUGINS_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import config as _config_cmds
from . import delegated as _delegated_cmds
from . import operators as _operators_cmds
from . import plugins as _plugins_cmds

__all__ = ["PROG", "build_parser", "main", "run"]

PROG = "fiftyone-plugins"


class _HelpFormatter(argparse.HelpFormatter):
    """Measures the terminal once: argparse otherwise asks for every argument it adds."""

    _measured_width: int | None = None

    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("width") is None:
            if _HelpFormatter._measured_width is None:
                import shutil

                _HelpFormatter._measured_width = shutil.get_terminal_size().columns - 2
            kwargs["width"] = _HelpFormatter._measured_width
        super().__init__(prog, *args, **kwargs)


class _ArgumentParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        # remember the innermost command's parser (it parses first), so that a stray
        # argument is reported with that command's usage instead of the top level's
        parsed, extras = super().parse_known_args(args, namespace)
        if not hasattr(parsed, "command_parser"):
            parsed.command_parser = self
        return parsed, extras


#: command groups: (names they add at the top level, how to register them fully)
_GROUPS: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("plugins",), _plugins_cmds.register),
    (("operators",), _operators_cmds.register),
    (("delegated",), _delegated_cmds.register),
    (("config", "app"), _config_cmds.register),
    (_plugins_cmds.TOPLEVEL_COMMANDS, _plugins_cmds.register_toplevel),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Builds the command tree (no handler imports happen here).

    Given the arguments, only the group they name is built in full (argparse parsers are
    not free, and start-up time is part of every command); the others are placeholders.
    Without a command (``-h``, no arguments) the whole tree is built.
    """
    parser = _ArgumentParser(
        prog=PROG,
        description="Manage plugins, run operators and delegated operations.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--version", dest="show_version", action="store_true", help="print the version and exit"
    )
    groups = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = next((a for a in argv or () if not a.startswith("-")), None)
    known = any(command in names for names, _register in _GROUPS)
    for names, register in _GROUPS:
        if not known or command in names:
            register(groups)
        else:
            for name in names:  # never chosen in this run; keeps the tree's shape
                groups.add_parser(name, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI and returns its exit code."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args, extras = parser.parse_known_args(argv)
    if extras:
        args.command_parser.error(f"unrecognized arguments: {' '.join(extras)}")
    if args.show_version:
        from .._version import __version__

        print(__version__)
        return 0
    handler = getattr(args, "handler", None)
    if handler is None:
        target = getattr(args, "group_parser", parser)
        target.print_help()
        return 0 if args.command is None else 2
    debug = args.debug or os.environ.get("FIFTYONE_PLUGINS_DEBUG", "") not in ("", "0")
    _setup_logging(debug)
    from ..errors import FiftyOnePluginsError

    try:
        code = handler(args)
    except FiftyOnePluginsError as e:
        if debug:
            raise
        for line in str(e).splitlines() or [type(e).__name__]:
            print(f"error: {line}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    sys.stdout.flush()
    return int(code or 0)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def _setup_logging(debug: bool) -> None:
    """Sends the library's log records to stderr, once, unless the host configured logging."""
    logger = logging.getLogger("fiftyone_plugins")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
