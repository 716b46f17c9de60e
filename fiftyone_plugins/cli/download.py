"""The ``plugins download`` command (filled in by the download issue)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ..download import download_plugin

    download_plugin(
        args.url_or_gh_repo,
        plugin_names=args.plugin_names or None,
        max_depth=args.max_depth,
        overwrite=args.overwrite,
    )
    return 0
