"""The web app's pages and API calls with 1,000 plugins and 10,000 operations.

Usage::

    python benchmarks/bench_web.py                   # 1,000 plugins, 10,000 operations
    python benchmarks/bench_web.py --plugins 200 --operations 2000 --repeat 5

It writes the plugins (one trivial operator each) into a temporary plugins dir, inserts the
operations into a SQLite store file (a mix of queued, running, completed and failed, over
several operators and datasets), serves the app with uvicorn on a free loopback port, and times
real HTTP requests (one kept-alive connection) to every page and its main API call: the
first (cold) request, then the median and the slowest of ``--repeat`` warm ones.

Target: every warm request under 200 ms (the script exits 1 otherwise). Paging on the server
is what keeps the runs pages flat: each asks the store for one page and a count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import make_root, remove_root, write_plugins  # noqa: E402

TOKEN = "bench"
LIMIT_MS = 200.0


def insert_operations(count: int) -> str:
    """Inserts ``count`` records straight into the configured store; returns one id."""
    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.operators.stores.records import (
        DelegatedOperationDoc,
        ExecutionProgress,
        ExecutionRunState,
    )

    store = foo.DelegatedOperationService().store
    states = [ExecutionRunState.COMPLETED] * 6 + [ExecutionRunState.QUEUED] * 2
    states += [ExecutionRunState.FAILED, ExecutionRunState.RUNNING]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    some_id = ""
    for i in range(count):
        state = states[i % len(states)]
        when = start + dt.timedelta(seconds=i)
        done = state in (ExecutionRunState.COMPLETED, ExecutionRunState.FAILED)
        doc = DelegatedOperationDoc(
            operator=f"@bench/plugin{i % 50:04d}/op0",
            label=f"bench job {i}",
            dataset_name=f"dataset{i % 20}",
            context={"params": {"i": i}},
            run_state=state,
            queued_at=when,
            updated_at=when,
            started_at=when if state is not ExecutionRunState.QUEUED else None,
            completed_at=when if state is ExecutionRunState.COMPLETED else None,
            failed_at=when if state is ExecutionRunState.FAILED else None,
            worker_id="bench-worker" if state is not ExecutionRunState.QUEUED else None,
            progress=(
                ExecutionProgress(0.5, "half") if state is ExecutionRunState.RUNNING else None
            ),
            result={"i": i} if state is ExecutionRunState.COMPLETED else None,
            error="failed on purpose" if state is ExecutionRunState.FAILED else None,
            attempts=1 if done else 0,
        )
        some_id = str(store.insert(doc).id)
    return some_id


def timed(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None) -> float:
    headers = {"X-FOP-Token": TOKEN, "X-FOP-Request": "1"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"{method} {path} answered {response.status}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugins", type=int, default=1000)
    parser.add_argument("--operations", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    root = make_root()
    try:
        os.environ.update(
            FIFTYONE_PLUGINS_DIR=os.path.join(root, "plugins"),
            FIFTYONE_CONFIG_PATH=os.path.join(root, "config.json"),
            FIFTYONE_APP_CONFIG_PATH=os.path.join(root, "app_config.json"),
            FIFTYONE_DELEGATED_OPERATION_STORE=f"sqlite:///{root}/ops.db",
        )
        started = time.perf_counter()
        write_plugins(os.path.join(root, "plugins"), args.plugins, operators=1)
        op_id = insert_operations(args.operations)
        print(
            f"setup: {args.plugins} plugins, {args.operations} operations "
            f"in {time.perf_counter() - started:.1f}s"
        )

        from fiftyone_plugins.web.app import create_app
        from fiftyone_plugins.web.server import ServerThread

        last = f"@bench/plugin{args.plugins - 1:04d}"
        pages = args.operations // 25
        requests: list[tuple[str, str, dict | None]] = [
            ("GET", "/plugins", None),
            ("GET", "/plugins?page=10", None),
            ("GET", "/plugins?q=plugin09", None),
            ("GET", f"/plugins/{last}", None),
            ("GET", "/api/plugins", None),
            ("GET", "/operators", None),
            ("GET", "/operators?q=plugin05", None),
            ("GET", f"/operators/{last}/op0", None),
            ("GET", "/api/operators?q=op0", None),
            ("POST", "/api/operators/resolve", {"uri": f"{last}/op0", "params": {}}),
            ("GET", "/runs", None),
            ("GET", f"/runs?page={pages}", None),
            ("GET", "/runs?state=failed&sort=updated_at", None),
            ("GET", "/runs?operator=@bench/plugin0007/op0&dataset=dataset7", None),
            ("GET", "/runs?q=job%2099&per_page=100", None),
            ("GET", "/runs?sort=operator&order=asc&page=50", None),
            ("GET", f"/runs/{op_id}", None),
            ("GET", "/api/runs", None),
            ("GET", "/api/runs?state=completed&page=100", None),
            ("GET", f"/api/runs/{op_id}", None),
        ]
        worst = 0.0
        with ServerThread(create_app(TOKEN), TOKEN) as server:
            port = int(server.base.rsplit(":", 1)[1])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            print(f"{'request':<62} {'cold':>8} {'median':>8} {'max':>8}  (ms)")
            for method, path, body in requests:
                cold = timed(conn, method, path, body)
                warm = [timed(conn, method, path, body) for _ in range(args.repeat)]
                slowest = max(warm)
                worst = max(worst, slowest)
                flag = "" if slowest < LIMIT_MS else "  SLOW"
                print(
                    f"{method + ' ' + path:<62} {cold:8.1f} {statistics.median(warm):8.1f} "
                    f"{slowest:8.1f}{flag}"
                )
            conn.close()
        print(f"slowest warm request: {worst:.1f} ms (target < {LIMIT_MS:.0f} ms)")
        return 0 if worst < LIMIT_MS else 1
    finally:
        remove_root(root)


if __name__ == "__main__":
    sys.exit(main())
