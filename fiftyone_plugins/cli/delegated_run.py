"""``delegated run ID`` and ``delegated workers``: the commands about who runs operations.

``run`` is what an external scheduler (an Airflow task, a Kubernetes Job, a Slurm batch script,
a Databricks job) executes, one operation per job: its exit code is the verdict (0 completed,
1 failed, 3 not claimable). ``workers`` lists the workers registered in the store and the
queued operations no live worker can run. Registered by :mod:`.delegated`, as part of its
group; handlers import the operators layer inside the function so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ._output import check, print_table

__all__ = ["register"]


def register(sub: Any, positive_float: Callable[[str], float]) -> None:
    """Adds ``run`` and ``workers`` to the ``delegated`` group's subparsers."""
    p = sub.add_parser(
        "run",
        help="claim and run exactly one queued operation here (for external schedulers)",
        description="Claim the operation ID if it is still queued, run it in this process "
        "with a lease heartbeat and record its outcome. Exits 0 when it completed, 1 when it "
        "failed, 3 when it was not claimable (unknown id, or no longer queued).",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "--lease-seconds",
        type=positive_float,
        help="lease length (default: FIFTYONE_DELEGATED_OPERATION_LEASE_SECONDS or 60)",
    )
    p.add_argument("--worker-id", help="name of this worker (default: host:pid:random)")
    p.add_argument("-q", "--quiet", action="store_true", help="log only warnings")
    p.set_defaults(handler=_run)

    p = sub.add_parser(
        "workers",
        help="list the workers that announced themselves, and what no live worker can run",
        description="List the workers registered in the store (id, backend, delegation "
        "target, operators, operations in flight, last seen), then the queued operations "
        "that no live worker would claim.",
    )
    p.add_argument("-a", "--all", action="store_true", help="include workers not seen lately")
    p.set_defaults(handler=_workers)


def _service() -> Any:
    from ..operators.delegated import DelegatedOperationService

    return DelegatedOperationService()


def _when(value: Any) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _run(args: argparse.Namespace) -> int:
    import logging

    from ..operators.orchestrator import Worker

    if args.quiet:
        logging.getLogger("fiftyone_plugins").setLevel(logging.WARNING)
    service = _service()
    Worker(
        service,
        worker_id=args.worker_id,
        lease_seconds=args.lease_seconds,
        handle_signals=True,
        backend="local",  # in this process, whatever the configured backend
        operation_id=args.id,
    ).run()  # raises OperationNotClaimableError (exit code 3) when it claimed nothing
    doc = service.get(args.id)
    if doc.run_state.value == "completed":
        print(f"Operation {doc.id} completed")
        return 0
    if doc.run_state.value == "failed":
        print(f"Operation {doc.id} failed: {(doc.error or 'no error recorded').splitlines()[0]}")
    else:
        print(f"Operation {doc.id} did not finish here: it is {doc.run_state.value}")
    return 1


def _workers(args: argparse.Namespace) -> None:
    from ..operators.presence import list_workers, unrunnable

    service = _service()
    workers = list_workers(service)
    shown = [w for w in workers if args.all or w.alive()]
    print_table(
        ["id", "backend", "target", "operators", "in_flight", "last_seen", "alive"],
        [
            (
                w.id,
                w.backend,
                w.delegation_target or "(any)",
                "(any)" if w.operators is None else ", ".join(w.operators) or "(none)",
                f"{w.in_flight}/{w.max_in_flight}",
                _when(w.last_seen),
                check(w.alive()),
            )
            for w in shown
        ],
    )
    stuck = unrunnable(service, workers)
    if stuck:
        print(f"{len(stuck)} queued operation(s) no live worker can run:")
        for doc in stuck:
            target = f", target {doc.delegation_target}" if doc.delegation_target else ""
            print(f"  {doc.id} {doc.operator}{target}")
