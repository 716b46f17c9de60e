"""FiftyOne-style plugins with and without FiftyOne: listing, executing, start-up.

Run it with each interpreter and compare (about a minute each):

    .venv/bin/python benchmarks/bench_fiftyone.py                 # without FiftyOne
    .venv-fiftyone/bin/python benchmarks/bench_fiftyone.py        # with fiftyone==1.22.1
    ... --voxel51-plugins DIR   # also list a folder of real plugins (voxel51/fiftyone-plugins)

What it measures:

- ``import fiftyone`` in a fresh process (FiftyOne's own cost, or the compatible imports');
- ``fiftyone-plugins operators list`` in a fresh process over 10 copies of the FiftyOne-style
  fixture plugin ``tests/fixtures/plugins/fo_host`` (its operators and panel, importing
  ``fiftyone``, ``fiftyone.operators`` and ``fiftyone.operators.types``), and over ``DIR``;
- ``execute_operator`` of a trivial FiftyOne-style operator in-process, after warm-up; with
  FiftyOne installed the operator subclasses FiftyOne's own ``Operator``;
- what the ``.pth`` start-up hook adds to every Python process (``-X importtime``).

The target: with FiftyOne, listing and executing cost what they cost without it, plus
FiftyOne's own import.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    describe,
    fiftyone_plugins_cli,
    isolated_env,
    make_root,
    remove_root,
    time_command,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "plugins", "fo_host")

TRIVIAL = """
import fiftyone.operators as foo
from fiftyone.operators import types


class Echo(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(name="echo")

    def resolve_input(self, ctx):
        inputs = types.Object()
        inputs.str("text", default="")
        return types.Property(inputs)

    def execute(self, ctx):
        return {"text": ctx.params.get("text")}


def register(p):
    p.register(Echo)
"""


def fiftyone_here() -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution("fiftyone")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def write_fixture_copies(plugins_dir: str, copies: int) -> None:
    with open(os.path.join(FIXTURE, "fiftyone.yml")) as f:
        manifest = f.read()
    for i in range(copies):
        folder = os.path.join(plugins_dir, f"fo_host_{i:02d}")
        shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("__pycache__"))
        with open(os.path.join(folder, "fiftyone.yml"), "w") as f:
            f.write(re.sub(r'name: "@test/fo_host"', f'name: "@bench/fo_host_{i:02d}"', manifest))


def write_trivial(plugins_dir: str) -> None:
    folder = os.path.join(plugins_dir, "echo")
    os.makedirs(folder)
    with open(os.path.join(folder, "fiftyone.yml"), "w") as f:
        f.write('name: "@bench/echo"\noperators:\n  - echo\n')
    with open(os.path.join(folder, "__init__.py"), "w") as f:
        f.write(TRIVIAL)


def bench_list(env: dict[str, str], label: str, runs: int = 5) -> None:
    argv = [*fiftyone_plugins_cli(), "operators", "list", "--include-unlisted"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    rows = sum(1 for line in done.stdout.splitlines() if line.startswith("@"))
    failed = done.stdout.split("Plugins that failed to load:")[1:] or [""]
    failures = sum(1 for line in failed[0].splitlines() if line.startswith("@"))
    print(f"operators list, {label}: {rows} operators, {failures} plugins failed to load")
    print(f"  {describe(time_command(argv, env, runs))}")


def bench_execute(root: str) -> None:
    env = isolated_env(root)
    env["FIFTYONE_DELEGATED_OPERATION_STORE"] = "memory://"
    os.environ.update(env)
    write_trivial(env["FIFTYONE_PLUGINS_DIR"])
    import fiftyone_plugins.operators as foo

    time.sleep(0.2)
    uri = "@bench/echo/echo"
    first = time.perf_counter()
    op = foo.get_operator(uri)
    foo.execute_operator(uri, params={"text": "hi"})
    first = time.perf_counter() - first
    print(f"execute_operator of a trivial operator ({type(op).__mro__[1].__module__}.Operator):")
    print(f"  first call (imports the plugin) {first * 1e3:.1f} ms")
    for _ in range(2000):
        foo.execute_operator(uri, params={"text": "hi"})
    batches = []
    for _ in range(10):
        calls = 2000
        start = time.perf_counter()
        for _ in range(calls):
            foo.execute_operator(uri, params={"text": "hi"})
        batches.append((time.perf_counter() - start) / calls)
    print(f"  per call after warm-up: {describe(batches, 'us')}")


def bench_startup(env: dict[str, str]) -> None:
    code = "pass"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True
    )
    hook = [line for line in done.stderr.splitlines() if "_fiftyone_plugins_hook" in line]
    cost = hook[-1].split("|")[1].strip() if hook else "(not installed)"
    print(f"start-up hook (_fiftyone_plugins_hook) import: {cost} us")
    print(f"  python -c pass: {describe(time_command([sys.executable, '-c', code], env, 10))}")
    imp = [sys.executable, "-c", "import fiftyone.operators"]
    print(f"  import fiftyone.operators: {describe(time_command(imp, env, 5))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voxel51-plugins", help="a plugins folder to list as well")
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    mode = "with FiftyOne" if fiftyone_here() else "without FiftyOne"
    print(f"== {mode} ({sys.executable})")
    root = make_root()
    try:
        env = isolated_env(root)
        os.makedirs(env["FIFTYONE_PLUGINS_DIR"])
        bench_startup(env)
        write_fixture_copies(env["FIFTYONE_PLUGINS_DIR"], args.copies)
        bench_list(env, f"{args.copies} FiftyOne-style plugins")
        if args.voxel51_plugins:
            real = dict(env, FIFTYONE_PLUGINS_DIR=os.path.abspath(args.voxel51_plugins))
            bench_list(real, f"the plugins of {args.voxel51_plugins}")
    finally:
        remove_root(root)
    root = make_root()
    try:
        bench_execute(root)
    finally:
        remove_root(root)


if __name__ == "__main__":
    main()
