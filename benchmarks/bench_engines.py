"""Execution backends: one local worker against one worker on Ray and on Dask.

Usage::

    python benchmarks/bench_engines.py                    # 200 waits of 0.5 s, 1,000 no-ops
    python benchmarks/bench_engines.py --waits 80 --noops 200 --rounds 2   # quicker

Part 1, scale-out: ``--waits`` operations that each sleep ``--seconds`` (0.5), drained by one
local worker (one at a time, today's default) and by one worker whose backend is a local Ray
cluster or a Dask ``LocalCluster`` of ``--slots`` (8) slots. The three are interleaved: the
operations are split into ``--rounds`` batches and each round runs one batch on every backend,
so a machine that gets busier part way slows all three alike. Before it, each engine runs a
short warm-up that puts every one of its worker processes to work once (each imports this
library and loads the plugin on its first operation). Target: both engines at least 6x
faster than the local worker (8 slots give at most 8x).

Part 2, overhead: ``--noops`` operations that do nothing, on each backend with one operation
in flight (the latency a claimed operation pays: submit, run remotely, ship the JSON outcome
back, record it) and with ``--slots`` in flight (throughput). The local backend's figure is
the store's own cost (claim + record); an engine's extra over it is what the engine adds.
Targets: under 20 ms per operation with Dask, under 30 ms with Ray.

Every operation runs the real operators layer on the engine side (a tiny plugin written to a
temporary plugins folder) and is recorded in a SQLite store by the dispatching worker. The
clusters run on loopback and are shut down at the end.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _common import make_root, remove_root  # noqa: E402

PLUGIN = {
    "fiftyone.yml": "name: '@bench/engines'\noperators: [wait, noop]\n",
    "__init__.py": (
        "import time\n"
        "import fiftyone_plugins.operators as foo\n\n"
        "class Wait(foo.Operator):\n"
        "    config = property(lambda self: foo.OperatorConfig(name='wait'))\n"
        "    def execute(self, ctx):\n"
        "        time.sleep(ctx.params['seconds'])\n"
        "        return {'slept': ctx.params['seconds']}\n\n"
        "class Noop(foo.Operator):\n"
        "    config = property(lambda self: foo.OperatorConfig(name='noop'))\n"
        "    def execute(self, ctx):\n"
        "        return None\n\n"
        "def register(p):\n"
        "    p.register(Wait)\n"
        "    p.register(Noop)\n"
    ),
}


def setup(root: str) -> None:
    """Points every setting of this process (and so of the clusters it starts) into root."""
    folder = pathlib.Path(root, "plugins", "engines")
    folder.mkdir(parents=True)
    for name, text in PLUGIN.items():
        (folder / name).write_text(text)
    for key in [k for k in os.environ if k.startswith("FIFTYONE_")]:
        del os.environ[key]
    os.environ.update(
        FIFTYONE_PLUGINS_DIR=str(pathlib.Path(root, "plugins")),
        FIFTYONE_CONFIG_PATH=str(pathlib.Path(root, "config.json")),
        FIFTYONE_APP_CONFIG_PATH=str(pathlib.Path(root, "app_config.json")),
        FIFTYONE_DELEGATED_OPERATION_STORE=f"sqlite:///{root}/ops.sqlite",
    )


def drain(service, backend, operator: str, count: int, params: dict, in_flight: int) -> float:
    """Queues ``count`` operations, runs them all with one worker; returns the wall seconds."""
    from fiftyone_plugins.operators.orchestrator import Worker

    ids = [service.queue_operation(operator, context={"params": params}).id for _ in range(count)]
    start = time.perf_counter()
    stats = Worker(
        service, backend=backend, once=True, max_in_flight=in_flight, poll_interval=0.05
    ).run()
    wall = time.perf_counter() - start
    if stats.completed != count:
        failed = [d for d in service.list_operations(ids=ids) if d.run_state.value != "completed"]
        raise SystemExit(f"{count - stats.completed} operations did not complete: {failed[:1]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waits", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--noops", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=8)
    args = parser.parse_args()

    root = make_root()
    setup(root)
    import dask
    import distributed
    import ray

    from fiftyone_plugins.operators.backends.dask import DaskBackend
    from fiftyone_plugins.operators.backends.ray import RayBackend
    from fiftyone_plugins.operators.delegated import DelegatedOperationService

    service = DelegatedOperationService()
    started = time.perf_counter()
    ray.init(
        num_cpus=args.slots,
        include_dashboard=False,
        object_store_memory=200 * 1024**2,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    ray_start = time.perf_counter() - started
    started = time.perf_counter()
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            host="127.0.0.1",
            n_workers=2,
            threads_per_worker=args.slots // 2,
            processes=True,
            dashboard_address="127.0.0.1:0",
        )
    dask_start = time.perf_counter() - started
    backends = {
        "local": lambda: "local",
        "ray": RayBackend,  # uses the Ray connection made above
        "dask": lambda: DaskBackend(address=cluster.scheduler_address),
    }
    print(f"cluster start-up: ray {ray_start:.2f}s, dask {dask_start:.2f}s (to first use)")
    try:
        # warm-up: every engine worker process imports the operators layer and loads the
        # plugin once; short waits, all slots busy at once, so that every process gets one
        for name in ("ray", "dask"):
            warm = {"seconds": 0.2}
            drain(service, backends[name](), "@bench/engines/wait", 2 * args.slots, warm, 8)

        walls = dict.fromkeys(backends, 0.0)
        batch = args.waits // args.rounds
        for _ in range(args.rounds):
            for name, make in backends.items():
                in_flight = 1 if name == "local" else args.slots
                walls[name] += drain(
                    service,
                    make(),
                    "@bench/engines/wait",
                    batch,
                    {"seconds": args.seconds},
                    in_flight,
                )
        total = batch * args.rounds
        print(f"\n{total} operations of {args.seconds}s, {args.rounds} interleaved rounds")
        print(f"{'backend':<8} {'in flight':>9} {'wall s':>8} {'ops/s':>7} {'speed-up':>9}")
        for name, wall in walls.items():
            in_flight = 1 if name == "local" else args.slots
            print(
                f"{name:<8} {in_flight:>9} {wall:>8.2f} {total / wall:>7.2f} "
                f"{walls['local'] / wall:>8.1f}x"
            )

        print(f"\n{args.noops} no-op operations: wall ms per operation")
        print(f"{'backend':<8} {'1 in flight':>12} {f'{args.slots} in flight':>12}")
        for name, make in backends.items():
            one = drain(service, make(), "@bench/engines/noop", args.noops, {}, 1)
            many = drain(service, make(), "@bench/engines/noop", args.noops, {}, args.slots)
            print(f"{name:<8} {1000 * one / args.noops:>12.1f} {1000 * many / args.noops:>12.1f}")
    finally:
        cluster.close()
        ray.shutdown()
        remove_root(root)


if __name__ == "__main__":
    main()
