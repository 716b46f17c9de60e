"""The ``config``, ``app config`` and ``app launch`` commands: settings, and the web app."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

__all__ = ["register"]


def register(groups: Any) -> None:
    p = groups.add_parser(
        "config", help="print your config", description="Print your config or one field of it."
    )
    p.add_argument("field", nargs="?", metavar="FIELD", help="a config field to print")
    p.add_argument("-l", "--locate", action="store_true", help="print where the config lives")
    p.set_defaults(handler=_config)

    app = groups.add_parser("app", help="App config commands", description="App config.")
    app.set_defaults(group_parser=app)
    sub = app.add_subparsers(dest="app_command", metavar="COMMAND")
    p = sub.add_parser(
        "config",
        help="print your App config",
        description="Print your App config (plugin settings live under `plugins`).",
    )
    p.add_argument("field", nargs="?", metavar="FIELD", help="an App config field to print")
    p.add_argument("-l", "--locate", action="store_true", help="print where it lives")
    p.set_defaults(handler=_app_config)
    p = sub.add_parser(
        "launch",
        help="serve the local web app (plugins, operator browser, runs)",
        description=(
            "Serve the local web app and print its URL, token included. Needs the [web] "
            "extra. The token is FIFTYONE_PLUGINS_APP_TOKEN, else a random one per launch. "
            "Stop it with Ctrl-C."
        ),
    )
    p.add_argument(
        "-p",
        "--port",
        type=int,
        default=5151,
        metavar="N",
        help="port (default 5151; 0: a free one)",
    )
    p.add_argument(
        "-A",
        "--address",
        default="127.0.0.1",
        metavar="HOST",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("-n", "--no-browser", action="store_true", help="do not open a browser window")
    p.set_defaults(handler=_app_launch)


def _print_value(value: Any) -> None:
    if isinstance(value, str):
        print(value)
    else:
        print(json.dumps(value, indent=4))


def _locate(path: str) -> int:
    print(path)
    if not os.path.isfile(path):
        print(f"note: {path} does not exist yet; defaults are in use", file=sys.stderr)
    return 0


def _field(values: dict[str, Any], field: str, what: str) -> Any:
    import difflib

    from ..errors import ConfigError

    if field in values:
        return values[field]
    close = difflib.get_close_matches(field, list(values), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(f"{what} has no field {field!r}{hint}")


def _config(args: argparse.Namespace) -> int:
    from .. import config

    if args.locate:
        return _locate(config.locate_config())
    values = config.load_config().to_dict()
    _print_value(_field(values, args.field, "The config") if args.field else values)
    return 0


def _app_config(args: argparse.Namespace) -> int:
    from .. import config

    if args.locate:
        return _locate(config.locate_app_config())
    values = dict(config.load_app_config())
    values.setdefault("plugins", {})
    _print_value(_field(values, args.field, "The App config") if args.field else values)
    return 0


def _app_launch(args: argparse.Namespace) -> int:
    from . import app

    return app.launch(args)
