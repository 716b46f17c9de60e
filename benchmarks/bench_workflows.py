"""Workflows: firing due schedules, delegated pipelines, fan-out.

Usage::

    python benchmarks/bench_workflows.py                    # everything, on SQLite
    python benchmarks/bench_workflows.py --schedules 5000 --backends sqlite memory
    python benchmarks/bench_workflows.py --only pipeline --pipelines 100

Schedules: creates ``--schedules`` interval schedules all due at one fake time, then times one
:meth:`ScheduleService.fire_due` pass over them (each fire: the overlap check, the insert of
the operation under its derived id, the compare-and-set advance of the schedule), and a second
pass at the same time (nothing due: an idle pass).

Pipelines: queues ``--pipelines`` delegated 3-stage pipelines of no-op stages (a real plugin,
through ``execute_operator``) on SQLite and drains them with one in-process worker; then
drains as many plain no-op operations as there were pipelines. The overhead per stage is the
difference divided by the number of stages: what making a stage a child operation (queue,
take, run through the operators layer, record, progress) costs.

Fan-out: a fan-out of 100 no-op slices queued on SQLite and drained by 4 worker processes
(and, for comparison, by 1), timed from queueing to the parent's completion.

Targets: firing 1,000 due schedules in under 1 s on SQLite; pipeline overhead under 5 ms per
stage on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _store(kind: str, folder: str):
    if kind == "memory":
        from fiftyone_plugins.operators.stores.memory import MemoryStore

        return MemoryStore()
    from fiftyone_plugins.operators.stores.sqlite import SQLiteStore

    return SQLiteStore(f"{folder}/bench.db")


def bench_fire(kind: str, count: int) -> dict[str, float]:
    from fiftyone_plugins.operators.schedules import ScheduleService

    with tempfile.TemporaryDirectory() as folder:
        store = _store(kind, folder)
        service = ScheduleService(store, clock=lambda: T0)
        for _ in range(count):
            service.add_schedule("@bench/op", every="1m")
        due = T0 + dt.timedelta(minutes=1, seconds=1)
        start = time.perf_counter()
        report = service.fire_due(due, limit=count)
        fired = time.perf_counter() - start
        assert len(report.created) == count, len(report.created)
        start = time.perf_counter()
        service.fire_due(due, limit=count)
        idle = time.perf_counter() - start
        store.close()
    return {"fire_s": fired, "per_schedule_ms": fired / count * 1000, "idle_pass_ms": idle * 1e3}


PLUGIN = {
    "fiftyone.yml": "name: '@bench/flow'\noperators: [noop, pipe, split]\n",
    "__init__.py": (
        "import fiftyone_plugins.operators as foo\n\n\n"
        "class Noop(foo.Operator):\n"
        "    config = foo.OperatorConfig(name='noop', allow_delegated_execution=True)\n\n"
        "    def execute(self, ctx):\n"
        "        return None\n\n\n"
        "class Pipe(foo.PipelineOperator):\n"
        "    config = foo.OperatorConfig(name='pipe', allow_delegated_execution=True)\n\n"
        "    def resolve_pipeline(self, ctx):\n"
        "        p = foo.Pipeline()\n"
        "        for i in range(3):\n"
        "            p.stage('@bench/flow/noop', name=f's{i}')\n"
        "        return p\n\n\n"
        "class Split(foo.FanOutOperator):\n"
        "    config = foo.OperatorConfig(name='split', allow_delegated_execution=True)\n\n"
        "    def resolve_fanout(self, ctx):\n"
        "        return foo.FanOut.over_params([{'i': i} for i in range(ctx.params['n'])])\n\n"
        "    def execute_slice(self, ctx):\n"
        "        return ctx.params['i']\n\n\n"
        "def register(p):\n"
        "    p.register(Noop)\n"
        "    p.register(Pipe)\n"
        "    p.register(Split)\n"
    ),
}


def _drain_timed(queue_one, count: int) -> float:
    from fiftyone_plugins.operators.delegated import DelegatedOperationService
    from fiftyone_plugins.operators.orchestrator import Worker

    for i in range(count):
        queue_one(i)
    start = time.perf_counter()
    Worker(DelegatedOperationService(), once=True, poll_interval=0.01).run()
    elapsed = time.perf_counter() - start
    service = DelegatedOperationService()
    failed = service.count(run_state="failed")
    if failed:
        raise SystemExit(f"{failed} operations failed: {service.list_operations()[0].error}")
    return elapsed


def _worker_process() -> None:
    from fiftyone_plugins.operators.delegated import DelegatedOperationService
    from fiftyone_plugins.operators.orchestrator import Worker
    from fiftyone_plugins.operators.stores import clear_cache

    clear_cache()  # never reuse a connection inherited through fork
    Worker(DelegatedOperationService(), poll_interval=0.01, limit=10**6, once=False).run()


def _fanout(children: int, workers: int) -> float:
    """Seconds from queueing a fan-out of ``children`` slices until ``workers`` worker
    processes (forked, already polling) have completed it."""
    import multiprocessing as mp

    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.operators.delegated import DelegatedOperationService

    procs = [mp.get_context("fork").Process(target=_worker_process) for _ in range(workers)]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # the workers are up and polling
    service = DelegatedOperationService()
    start = time.perf_counter()
    op_id = foo.execute_operator(
        "@bench/flow/split", params={"n": children}, request_delegation=True
    ).result["id"]
    while not service.get(op_id).is_terminal:
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.terminate()
        proc.join()
    doc = service.get(op_id)
    if doc.run_state.value != "completed":
        raise SystemExit(f"fan-out failed: {doc.error}")
    return elapsed


def bench_pipeline(count: int, children: int = 100, workers: int = 4) -> dict[str, float]:
    """Delegated 3-stage pipelines vs plain operations, one worker, SQLite."""
    import os

    with tempfile.TemporaryDirectory() as root:
        for name, text in PLUGIN.items():
            path = pathlib.Path(root, "plugins", "flow", name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        os.environ.update(
            FIFTYONE_PLUGINS_DIR=f"{root}/plugins",
            FIFTYONE_CONFIG_PATH=f"{root}/config.json",
            FIFTYONE_DELEGATED_OPERATION_STORE=f"sqlite:///{root}/ops.db",
        )
        import fiftyone_plugins.operators as foo
        from fiftyone_plugins.operators.stores import clear_cache

        clear_cache()
        foo.execute_operator("@bench/flow/noop", request_delegation=True)  # warm-up: loads
        _drain_timed(lambda i: None, 0)
        pipes = _drain_timed(
            lambda i: foo.execute_operator("@bench/flow/pipe", request_delegation=True), count
        )
        plain = _drain_timed(
            lambda i: foo.execute_operator("@bench/flow/noop", request_delegation=True), count
        )
        clear_cache()
        fan = _fanout(children, workers)
        fan_one = _fanout(children, 1)
        clear_cache()
    stages = 3 * count
    return {
        "pipelines_s": pipes,
        "plain_s": plain,
        "per_stage_ms": pipes / stages * 1000,
        "overhead_per_stage_ms": (pipes - plain) / stages * 1000,
        "fanout_s": fan,
        "fanout_one_s": fan_one,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--backends", nargs="+", default=["sqlite"], choices=["sqlite", "memory"])
    parser.add_argument("--only", choices=["schedules", "pipeline"])
    args = parser.parse_args(argv)
    if args.only in (None, "pipeline"):
        r = bench_pipeline(args.pipelines)
        print(
            f"{args.pipelines} delegated 3-stage pipelines, 1 worker [sqlite]: "
            f"{r['pipelines_s']:.3f} s ({r['per_stage_ms']:.2f} ms per stage); "
            f"{args.pipelines} plain operations {r['plain_s']:.3f} s; "
            f"overhead {r['overhead_per_stage_ms']:.2f} ms per stage"
        )
        print(
            f"fan-out of 100 children [sqlite]: 4 workers {r['fanout_s']:.3f} s, "
            f"1 worker {r['fanout_one_s']:.3f} s"
        )
    if args.only == "pipeline":
        return 0
    for kind in args.backends:
        runs = sorted(
            (bench_fire(kind, args.schedules) for _ in range(3)), key=lambda r: r["fire_s"]
        )
        r = runs[1]  # the median of three
        print(
            f"fire {args.schedules} due schedules [{kind}], median of 3: {r['fire_s']:.3f} s "
            f"({r['per_schedule_ms']:.3f} ms each); idle pass {r['idle_pass_ms']:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
