"""Operator speed: execute_operator overhead, get_operator, and the `operators list` CLI.

Run: python benchmarks/bench_operators.py  (takes about half a minute)

Targets: ``execute_operator`` of a trivial operator under 50 us per call in-process after
warm-up (10 plugins installed); ``get_operator`` after warm-up; ``fiftyone-plugins operators
list`` over 200 plugins x 5 operators under 300 ms wall in a fresh process.
For scale, FiftyOne 1.22.1 on the reference machine: 37 ms per execute_operator call with 10
plugins (1.4 ms with its plugin cache on), 530 ms with 200; `fiftyone operators list` over 200
plugins 4.2 s.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    describe,
    fiftyone_plugins_cli,
    isolated_env,
    make_root,
    remove_root,
    time_calls,
    time_command,
    write_plugins,
)


def bench_in_process(root: str, plugins: int) -> None:
    env = isolated_env(root)
    write_plugins(env["FIFTYONE_PLUGINS_DIR"], plugins, operators=5)
    os.environ.update(env)
    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.operators import registry

    time.sleep(0.2)  # let the files age past discovery's racy-timestamp window
    registry.invalidate()
    uri = "@bench/plugin0000/op0"
    start = time.perf_counter()
    foo.execute_operator(uri)
    first = time.perf_counter() - start
    for _ in range(2000):  # warm-up
        foo.execute_operator(uri)
    batches = []
    for _ in range(20):
        calls = 5000
        start = time.perf_counter()
        for _ in range(calls):
            foo.execute_operator(uri, params={"x": 1})
        batches.append((time.perf_counter() - start) / calls)
    print(f"execute_operator, {plugins} plugins, first call      {first * 1e3:.2f} ms")
    print(f"execute_operator, {plugins} plugins, per call        {describe(batches, 'us')}")
    lookups = []
    for _ in range(20):
        calls = 20000
        start = time.perf_counter()
        for _ in range(calls):
            foo.get_operator(uri)
        lookups.append((time.perf_counter() - start) / calls)
    print(f"get_operator after warm-up, per call        {describe(lookups, 'us')}")
    listing = time_calls(foo.list_operators, 50)
    print(f"list_operators(), {plugins * 5} operators, repeat     {describe(listing)}")


def main() -> None:
    root = make_root()
    try:
        bench_in_process(root, 10)
        big = os.path.join(root, "big")
        env = isolated_env(big)
        write_plugins(env["FIFTYONE_PLUGINS_DIR"], 200, operators=5)
        time.sleep(0.2)
        cli = [*fiftyone_plugins_cli(), "operators", "list"]
        # plugin modules are compiled once and then loaded from __pycache__, as for users;
        # PYTHONDONTWRITEBYTECODE=1 (set in some CI sandboxes) recompiles them every run
        cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        times = time_command(cli, cached, 10)
        print(f"operators list, 200 plugins x 5 ops (CLI) {describe(times)}")
        uncached = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        for folder, _dirs, _files in os.walk(env["FIFTYONE_PLUGINS_DIR"]):
            if os.path.basename(folder) == "__pycache__":
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
        times = time_command(cli, uncached, 5)
        print(f"  same, without bytecode caching           {describe(times)}")
        bare = time_command([sys.executable, "-c", "pass"], env, 10)
        print(f"  (python -c pass in the same setup:      {describe(bare)})")
    finally:
        remove_root(root)


if __name__ == "__main__":
    main()
