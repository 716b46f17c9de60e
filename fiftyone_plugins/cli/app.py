"""The ``app launch`` command: serve the local web app until interrupted."""

from __future__ import annotations

import argparse
import sys

__all__ = ["launch"]


def _print_url(url: str) -> None:
    print("The fiftyone-plugins web app is running; open this URL (Ctrl-C stops it):")
    print(url, flush=True)


def launch(args: argparse.Namespace) -> int:
    from .. import web

    web.require_web_stack()  # before anything else: one clear line when the extra is missing
    if args.address not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {args.address}: whoever can reach it and has the token "
            "can manage plugins and run operators",
            file=sys.stderr,
        )
    web.launch(
        port=args.port,
        address=args.address,
        open_browser=not args.no_browser,
        on_url=_print_url,
    )
    print("stopped", file=sys.stderr)
    return 0
