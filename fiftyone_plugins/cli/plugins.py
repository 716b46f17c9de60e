"""The ``plugins`` command group (also reachable one level up: ``fiftyone-plugins list``)."""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from collections.abc import Callable
from typing import Any

from ._output import check, print_key_values, print_table

__all__ = ["TOPLEVEL_COMMANDS", "register", "register_toplevel"]


def register(groups: Any) -> None:
    parser = groups.add_parser(
        "plugins",
        help="manage plugins",
        description="List, inspect, download, create, enable, disable and delete plugins.",
    )
    parser.set_defaults(group_parser=parser)
    _add_commands(parser.add_subparsers(dest="plugins_command", metavar="COMMAND"))


#: the plugin commands that also work one level up (``fiftyone-plugins list``)
TOPLEVEL_COMMANDS = (
    "list",
    "info",
    "download",
    "requirements",
    "create",
    "enable",
    "disable",
    "delete",
)


def register_toplevel(groups: Any) -> None:
    """Adds the plugin commands directly under the program (``fiftyone-plugins list``)."""
    _add_commands(groups, toplevel=True)


def _add_commands(sub: Any, toplevel: bool = False) -> None:
    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        extra = " (same as `plugins " + name + "`)" if toplevel else ""
        return sub.add_parser(name, help=help_text + extra, description=help_text + ".")

    p = add("list", "list plugins that you've downloaded or created locally")
    state = p.add_mutually_exclusive_group()
    state.add_argument("-e", "--enabled", action="store_true", help="only enabled plugins")
    state.add_argument("-d", "--disabled", action="store_true", help="only disabled plugins")
    builtin = p.add_mutually_exclusive_group()
    builtin.add_argument("-b", "--builtins-only", action="store_true", help="only builtin plugins")
    builtin.add_argument(
        "-a", "--include-builtins", action="store_true", help="builtin plugins too, marked so"
    )
    builtin.add_argument(
        "-c", "--no-builtins", action="store_true", help="leave builtin plugins out (the default)"
    )
    p.add_argument("-n", "--names-only", action="store_true", help="only print names")
    p.add_argument("-g", "--glob-patt", metavar="PATT", help="only names matching this glob")
    p.add_argument("-t", "--tags", nargs="+", metavar="TAG", help="only plugins with a tag")
    p.set_defaults(handler=_list)

    p = add("info", "print information about a plugin")
    p.add_argument("name", metavar="NAME_OR_DIR", help="a plugin name or plugin folder")
    p.set_defaults(handler=_info)

    p = add("download", "download plugins from GitHub, a URL or an archive")
    p.add_argument(
        "url_or_gh_repo",
        metavar="URL_OR_GH_REPO",
        help="a GitHub URL, <user>/<repo>[/<ref>], an archive URL, or a local folder/archive",
    )
    p.add_argument(
        "-n",
        "--plugin-names",
        nargs="*",
        metavar="PLUGIN_NAMES",
        help="only install the plugin(s) with these names",
    )
    p.add_argument(
        "--max-depth",
        type=int,
        default=3,
        metavar="N",
        help="how many folder levels of the source to search for plugins (default 3)",
    )
    p.add_argument("-o", "--overwrite", action="store_true", help="replace installed copies")
    p.set_defaults(handler=_download)

    p = add("requirements", "print, install or check a plugin's package requirements")
    p.add_argument("name", metavar="NAME", help="the plugin name")
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("-p", "--print", action="store_true", help="print the requirements")
    action.add_argument("-i", "--install", action="store_true", help="install them with pip")
    action.add_argument("-e", "--ensure", action="store_true", help="check they are satisfied")
    p.add_argument(
        "--error-level",
        type=int,
        choices=(0, 1, 2),
        default=None,
        metavar="LEVEL",
        help="0=error (default), 1=warn, 2=ignore",
    )
    p.set_defaults(handler=_requirements)

    p = add("create", "create (scaffold) a plugin")
    p.add_argument("names", nargs="+", metavar="NAME", help="the plugin name(s)")
    p.add_argument(
        "-f", "--from-files", nargs="*", metavar="FILES", help="a folder or files to include"
    )
    p.add_argument("-d", "--outdir", help="folder in which to create the plugin")
    p.add_argument("--label", help="a display name for the plugin")
    p.add_argument("--description", help="a description for the plugin")
    p.add_argument("--version", help="the FiftyOne version requirement (fiftyone.version)")
    p.add_argument("--plugin-version", help="the plugin's own version (default 0.1.0)")
    p.add_argument("-o", "--overwrite", action="store_true", help="replace an existing plugin")
    p.add_argument(
        "--kwargs", nargs="+", metavar="KEY=VAL", default=[], help="extra manifest keys"
    )
    p.set_defaults(handler=_create)

    for verb, doc in (
        ("enable", "enable the given plugin(s)"),
        ("disable", "disable the given plugin(s)"),
        ("delete", "delete the given plugin(s) from disk"),
    ):
        p = add(verb, doc)
        p.add_argument("names", nargs="*", metavar="NAME", help="the plugin name(s)")
        p.add_argument("-a", "--all", action="store_true", help=f"{verb} all downloaded plugins")
        p.set_defaults(handler=_bulk, verb=verb)


def _list(args: argparse.Namespace) -> int:
    from .. import management

    enabled: Any = True if args.enabled else False if args.disabled else "all"
    # as the reference shows it, the plugins downloaded or created locally: builtin plugins
    # only when asked for, and then in a column of their own
    builtin: Any = True if args.builtins_only else "all" if args.include_builtins else False
    plugins = management.list_plugins(enabled=enabled, builtin=builtin)
    if args.glob_patt:
        plugins = [p for p in plugins if fnmatch.fnmatchcase(p.name, args.glob_patt)]
    if args.tags:
        wanted = set(args.tags)
        plugins = [p for p in plugins if wanted.intersection(p.tags)]
    errors = [] if args.builtins_only else management.list_plugin_errors()
    for plugin in plugins:
        for warning in plugin.warnings:
            print(f"warning: {plugin.manifest_path}: {warning}", file=sys.stderr)
    if args.names_only:
        for plugin in plugins:
            print(plugin.name)
        for error in errors:
            print(f"warning: {error}", file=sys.stderr)
        return 0
    rows = [
        (p.name, p.version or "", check(management.is_plugin_enabled(p)), _short(p.directory))
        for p in plugins
    ]
    if builtin is False:
        print_table(["plugin", "version", "enabled", "directory"], rows)
    else:
        marked = [
            (*row[:3], check(p.builtin), row[3]) for row, p in zip(rows, plugins, strict=True)
        ]
        print_table(["plugin", "version", "enabled", "builtin", "directory"], marked)
    if errors:
        print()
        print("Plugins that failed to load:")
        print_table(
            ["path", "reason"],
            [(_short(getattr(e, "path", "") or ""), getattr(e, "reason", str(e))) for e in errors],
        )
    return 0


def _short(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def _info(args: argparse.Namespace) -> int:
    from .. import management
    from ..definitions import find_manifest

    target = args.name
    if os.path.isdir(target) and find_manifest(target):
        plugin = management.get_plugin(plugin_dir=target)
    else:
        plugin = management.get_plugin(target)
    d = plugin.to_dict()
    keys = [
        "name", "author", "version", "url", "license", "description",
        "fiftyone_compatibility", "operators", "panels", "js_bundle", "py_entry",
        "js_bundle_exists", "js_bundle_server_path", "has_py", "has_js", "server_path",
        "secrets", "tags", "builtin", "directory",
    ]  # fmt: skip
    rows: list[tuple[str, Any]] = [(k, d[k]) for k in keys if k != "panels" or d[k]]
    at = [k for k, _ in rows].index("builtin")
    rows.insert(at, ("enabled", management.is_plugin_enabled(plugin)))
    rows = [(k, _short(v) if k == "directory" else v) for k, v in rows]
    if plugin.shadow_paths:
        rows.append(("shadow_paths", plugin.shadow_paths))
    print_key_values(rows)
    for warning in plugin.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _download(args: argparse.Namespace) -> int:
    from . import download

    return download.run(args)


def _requirements(args: argparse.Namespace) -> int:
    from .. import requirements

    if args.print:
        lines = requirements.load_plugin_requirements(args.name)
        for line in lines:
            print(line)
        if not lines:  # said on stderr, so that stdout stays a requirements file
            print(f"Plugin {args.name!r} has no requirements", file=sys.stderr)
        return 0
    if args.install:
        ok = requirements.install_plugin_requirements(args.name, error_level=args.error_level)
        return 0 if ok else 1
    checks = requirements.ensure_plugin_requirements(args.name, error_level=2)
    for result in checks:
        print(result)
    if not checks:
        print(f"Plugin {args.name!r} has no requirements")
    failed = [c for c in checks if not c.satisfied]
    if failed and (args.error_level or 0) == 0:
        print(
            f"error: {len(failed)} requirement(s) of {args.name!r} not satisfied; install "
            f"them with `fiftyone-plugins plugins requirements {args.name} --install`",
            file=sys.stderr,
        )
        return 1
    return 0


def _parse_kwargs(pairs: list[str]) -> dict[str, Any]:
    import yaml

    from ..errors import FiftyOnePluginsError

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise FiftyOnePluginsError(f"--kwargs expects KEY=VAL, got {pair!r}")
        out[key] = yaml.safe_load(value) if value else ""
    return out


def _create(args: argparse.Namespace) -> int:
    from .. import management

    extra = _parse_kwargs(args.kwargs)
    for name in args.names:
        path = management.create_plugin(
            name,
            from_files=args.from_files or None,
            outdir=args.outdir,
            label=args.label,
            description=args.description,
            version=args.version,
            plugin_version=args.plugin_version,
            overwrite=args.overwrite,
            **extra,
        )
        print(f"Created plugin {name!r} in {path}")
    return 0


def _bulk(args: argparse.Namespace) -> int:
    from .. import management
    from ..errors import FiftyOnePluginsError

    if args.all:
        names = management.list_downloaded_plugins()
    elif args.names:
        names = args.names
    else:
        raise FiftyOnePluginsError(f"give plugin name(s) to {args.verb}, or --all")
    actions: dict[str, Callable[[str], Any]] = {
        "enable": management.enable_plugin,
        "disable": management.disable_plugin,
        "delete": management.delete_plugin,
    }
    action = actions[args.verb]
    past = {"enable": "Enabled", "disable": "Disabled", "delete": "Deleted"}[args.verb]
    failures = 0
    for name in names:
        try:
            action(name)
        except FiftyOnePluginsError as e:
            if len(names) == 1:
                raise
            print(f"error: {e}", file=sys.stderr)
            failures += 1
            continue
        print(f"{past} plugin {name!r}")
    return 1 if failures else 0
