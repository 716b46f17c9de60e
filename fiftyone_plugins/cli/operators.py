"""The ``operators`` command group: list, inspect and execute operators and panels."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._output import check, print_json, print_key_values, print_table

__all__ = ["register"]


def register(groups: Any) -> None:
    parser = groups.add_parser(
        "operators",
        help="list, inspect and execute operators",
        description="List, inspect and execute the operators and panels of your plugins.",
    )
    parser.set_defaults(group_parser=parser)
    sub = parser.add_subparsers(dest="operators_command", metavar="COMMAND")

    p = sub.add_parser(
        "list",
        help="list available operators and panels",
        description="List the operators and panels of installed plugins (enabled and "
        "disabled by default; a disabled plugin's are listed from its manifest).",
    )
    state = p.add_mutually_exclusive_group()
    state.add_argument("-e", "--enabled", action="store_true", help="only enabled operators")
    state.add_argument("-d", "--disabled", action="store_true", help="only disabled operators")
    builtin = p.add_mutually_exclusive_group()
    builtin.add_argument(
        "-b", "--builtins-only", action="store_true", help="only builtin operators"
    )
    builtin.add_argument(
        "-c", "--no-builtins", action="store_true", help="leave builtin operators out"
    )
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("-p", "--panels-only", action="store_true", help="only panels")
    kind.add_argument("-o", "--operators-only", action="store_true", help="only operators")
    p.add_argument("-n", "--names-only", action="store_true", help="only print URIs")
    p.add_argument("-g", "--glob-patt", metavar="PATT", help="only URIs matching this glob")
    p.add_argument(
        "-u", "--include-unlisted", action="store_true", help="also list unlisted operators"
    )
    p.set_defaults(handler=_list)

    p = sub.add_parser(
        "info",
        help="print information about an operator or panel",
        description="Print the configuration of an operator or panel.",
    )
    p.add_argument("uri", metavar="URI", help="the operator URI")
    p.set_defaults(handler=_info)

    p = sub.add_parser(
        "execute",
        help="execute an operator and print its result as JSON",
        description="Execute an operator (or queue it as a delegated operation) and print "
        "the result as JSON.",
    )
    p.add_argument("uri", metavar="URI", help="the operator URI")
    p.add_argument("--params", metavar="JSON", default="{}", help="the parameters, as JSON")
    p.add_argument("--dataset", metavar="NAME", help="the dataset to operate on, by name")
    p.add_argument(
        "--delegate", action="store_true", help="request delegated execution, if supported"
    )
    p.add_argument("--target", metavar="TARGET", help="the delegation target (orchestrator)")
    p.set_defaults(handler=_execute)


def _list(args: argparse.Namespace) -> int:
    from ..operators import registry

    enabled: Any = True if args.enabled else False if args.disabled else "all"
    builtin: Any = True if args.builtins_only else False if args.no_builtins else "all"
    kind = "panel" if args.panels_only else "operator" if args.operators_only else None
    # what each plugin registered is remembered across runs: unchanged plugins are not
    # imported (see fiftyone_plugins.operators.registrations)
    entries = registry.filter_entries(
        registry.list_entries(enabled, builtin, kind, remembered=True), args.glob_patt
    )
    hidden = 0
    if not args.include_unlisted:
        listed = [e for e in entries if e.panel or not e.unlisted]
        hidden, entries = len(entries) - len(listed), listed
    errors = [] if args.disabled else registry.list_errors(enabled=True, remembered=True)
    if args.builtins_only:
        errors = [e for e in errors if _is_builtin_error(e)]
    if hidden:
        print(
            f"note: {hidden} unlisted operator(s) not shown; add -u/--include-unlisted",
            file=sys.stderr,
        )
    if args.names_only:
        for entry in entries:
            print(entry.uri)
        for error in errors:
            print(f"warning: {error}", file=sys.stderr)
        return 0
    rows = [
        (e.uri, check(e.enabled), check(e.builtin), check(e.panel), check(e.unlisted))
        for e in entries
    ]
    print_table(["uri", "enabled", "builtin", "panel", "unlisted"], rows)
    from ..errors import OperatorRegistrationError

    problems = [e for e in errors if isinstance(e, OperatorRegistrationError)]
    failures = [e for e in errors if not isinstance(e, OperatorRegistrationError)]
    for title, group in (
        ("Plugins that failed to load:", failures),
        ("Operators that could not be registered (their plugins' others are listed):", problems),
    ):
        if group:
            print()
            print(title)
            print_table(["plugin", "reason"], [_error_row(e) for e in group])
    return 0


def _is_builtin_error(error: Exception) -> bool:
    from ..discovery import BUILTIN_PLUGINS_DIR

    return str(getattr(error, "path", "") or "").startswith(BUILTIN_PLUGINS_DIR)


def _error_row(error: Exception) -> tuple[str, str]:
    name = getattr(error, "name", None) or getattr(error, "path", None) or ""
    reason = getattr(error, "reason", None) or str(error)
    prefix = f"Plugin {name!r}: "
    if reason.startswith(prefix):
        reason = reason[len(prefix) :]
    elif reason.startswith(f"Plugin {name!r} "):
        reason = reason[len(f"Plugin {name!r} ") :]
    return str(name), reason


def _info(args: argparse.Namespace) -> int:
    from ..operators import registry
    from ..operators.operator import CONFIG_FIELDS

    operator = registry.get_operator(args.uri, enabled="all")
    if not getattr(operator, "loaded", True):
        # a disabled plugin's code is never imported: only its manifest is known, and
        # printing the config's defaults would pass them off as the operator's settings
        plugin = operator.plugin_name
        print_key_values([("name", operator.config.name), ("plugin", plugin), ("enabled", False)])
        print(
            f"note: plugin {plugin!r} is disabled, so its code (and this operator's config) "
            f"is not loaded; `fiftyone-plugins plugins enable {plugin}` shows the rest",
            file=sys.stderr,
        )
        return 0
    config = operator.config
    rows: list[tuple[str, Any]] = [
        (field, getattr(config, field, None)) for field in CONFIG_FIELDS
    ]
    print_key_values(rows)
    return 0


def _execute(args: argparse.Namespace) -> int:
    import json

    from ..errors import FiftyOnePluginsError
    from ..operators import execute_operator

    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as e:
        raise FiftyOnePluginsError(f"--params is not valid JSON: {e}") from e
    if not isinstance(params, dict):
        raise FiftyOnePluginsError("--params must be a JSON object, like '{\"x\": 1}'")
    ctx: dict[str, Any] = {"params": params}
    if args.dataset:
        ctx["dataset"] = args.dataset
    result = execute_operator(
        args.uri, ctx, request_delegation=args.delegate, delegation_target=args.target
    )
    if result.delegated:
        doc = result.result or {}
        print_json({key: doc.get(key) for key in _QUEUED_FIELDS})
        print(
            f"Queued as delegated operation {doc.get('id')}; a worker started with "
            "`delegated launch` will run it",
            file=sys.stderr,
        )
        return 0
    data = result.to_json()
    data.pop("error_trace", None)
    print_json(data)
    return 0


#: what `operators execute --delegate` prints about the queued operation
_QUEUED_FIELDS = ("id", "operator", "label", "run_state", "delegation_target", "queued_at")
