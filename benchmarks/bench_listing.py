"""Repeated listing: ``list_operators()`` and ``list_plugins()`` called again and again.

Run: python benchmarks/bench_listing.py [--plugins 1000] [--operators 5]

A host UI or a notebook asks for the operators many times while nothing changes. Rows:
``list_plugins()`` repeated (the reference figure), ``list_operators()`` repeated within the
registry's recheck interval, and ``list_operators()`` when every call is a recheck (the
interval set to 0: the disk is consulted each time, through inotify where available).
Target: a repeated ``list_operators()`` costs about what ``list_plugins()`` does.
For scale, FiftyOne 1.22.1 on the reference machine: 15.9 ms per repeated
``list_operators()`` over 1,000 plugins x 5 operators, with its plugin cache on.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    describe,
    isolated_env,
    make_root,
    remove_root,
    time_calls,
    write_plugins,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugins", type=int, default=1000)
    parser.add_argument("--operators", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    root = make_root()
    try:
        env = isolated_env(root)
        write_plugins(env["FIFTYONE_PLUGINS_DIR"], args.plugins, operators=args.operators)
        os.environ.update(env)
        import fiftyone_plugins as fop
        import fiftyone_plugins.operators as foo
        from fiftyone_plugins.operators import registry

        time.sleep(0.2)  # let the files age past discovery's racy-timestamp window
        count = args.plugins * args.operators
        start = time.perf_counter()
        operators = foo.list_operators()
        first = time.perf_counter() - start
        assert len(operators) >= count, len(operators)
        fop.list_plugins()
        print(f"list_operators(), {count} operators, first call   {first * 1e3:.2f} ms")
        plugins = time_calls(fop.list_plugins, args.calls)
        print(f"list_plugins(), {args.plugins} plugins, repeat       {describe(plugins)}")
        repeat = time_calls(foo.list_operators, args.calls)
        print(f"list_operators(), {count} operators, repeat     {describe(repeat)}")
        registry.RECHECK_INTERVAL = 0.0
        foo.list_operators()  # the first recheck arms the watch of the plugins' sources
        rechecked = time_calls(foo.list_operators, args.calls)
        print(f"list_operators(), every call a recheck        {describe(rechecked)}")
    finally:
        remove_root(root)


if __name__ == "__main__":
    main()
