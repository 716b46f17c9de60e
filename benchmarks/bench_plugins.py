"""Plugin discovery speed: import time, `plugins list` CLI, in-process list_plugins().

Run: python benchmarks/bench_plugins.py  (takes about half a minute)

Targets (2-core machine): `import fiftyone_plugins` under 60 ms in a fresh process;
`fiftyone-plugins plugins list` with 200 plugins under 250 ms wall; `list_plugins()` over
1000 plugins, repeated call under 5 ms.
"""

from __future__ import annotations

import os
import statistics
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


def main() -> None:
    root = make_root()
    try:
        env = isolated_env(root)
        bare = time_command([sys.executable, "-c", "pass"], env, 20)
        imported = time_command([sys.executable, "-c", "import fiftyone_plugins"], env, 20)
        print(f"python -c pass                         {describe(bare)}")
        print(f"python -c 'import fiftyone_plugins'   {describe(imported)}")
        delta = (statistics.median(imported) - statistics.median(bare)) * 1e3
        print(f"  import cost over a bare interpreter  {delta:.2f} ms")

        write_plugins(env["FIFTYONE_PLUGINS_DIR"], 200)
        cli = time_command([*fiftyone_plugins_cli(), "plugins", "list"], env, 10)
        print(f"plugins list, 200 plugins (CLI)        {describe(cli)}")

        big = os.path.join(root, "big")
        write_plugins(os.path.join(big, "plugins"), 1000)
        os.environ.update(isolated_env(big))
        import fiftyone_plugins as fop
        from fiftyone_plugins import discovery

        time.sleep(0.2)  # let the files age past the racy-timestamp window
        discovery.invalidate()
        start = time.perf_counter()
        count = len(fop.list_plugins())
        first = time.perf_counter() - start
        repeated = time_calls(fop.list_plugins, 200)
        print(f"list_plugins(), {count} plugins, first   {first * 1e3:.2f} ms")
        print(f"list_plugins(), {count} plugins, repeat  {describe(repeated)}")
    finally:
        remove_root(root)


if __name__ == "__main__":
    main()
