"""The ``delegated`` command group: run workers and inspect or manage delegated operations.

Handlers import the service inside the function so ``fiftyone-plugins --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from . import delegated_run, schedule
from ._output import check, print_json, print_key_values, print_table

if TYPE_CHECKING:
    from ..operators.delegated import DelegatedOperation

__all__ = ["register"]

_STATES = ("SCHEDULED", "QUEUED", "RUNNING", "COMPLETED", "FAILED")
# the names of SortField (not imported here, to keep `--help` fast; a test keeps them in sync)
_SORT_KEYS = (
    "QUEUED_AT",
    "SCHEDULED_AT",
    "STARTED_AT",
    "COMPLETED_AT",
    "FAILED_AT",
    "UPDATED_AT",
    "OPERATOR",
)
#: the largest count any option takes: what every store can page by (stores.base.MAX_QUERY_INT)
_MAX_INT = 2**31 - 1
#: the longest duration in seconds (about 31 years): longer ones overflow datetimes and waits
_MAX_SECONDS = 1e9


def _memory(value: str) -> int:
    from ..operators.monitor import parse_memory

    try:
        size = parse_memory(value)
    except (ValueError, IndexError, OverflowError):
        size = 0
    if not 0 < size < 2**63:
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 4G, got {value!r}")
    return size


def _state(value: str) -> str:
    if value.upper() not in _STATES:
        raise argparse.ArgumentTypeError(
            f"invalid state {value!r} (choose from {', '.join(_STATES)})"
        )
    return value.lower()


def _backend(value: str) -> str:
    # the names of backends.BACKEND_NAMES (not imported here, to keep `--help` fast)
    if value.lower() not in ("local", "ray", "dask"):
        raise argparse.ArgumentTypeError(
            f"invalid backend {value!r} (choose from local, ray, dask)"
        )
    return value.lower()


def _sort_key(value: str) -> str:
    if value.upper() not in _SORT_KEYS:
        raise argparse.ArgumentTypeError(
            f"invalid sort key {value!r} (choose from {', '.join(_SORT_KEYS)})"
        )
    return value.lower()


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= _MAX_INT:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer up to {_MAX_INT}, got {value!r}"
        )
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0 < number <= _MAX_SECONDS:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"expected a positive number up to {_MAX_SECONDS:.0f}, got {value!r}"
        )
    return number


def register(groups: Any) -> None:
    parser = groups.add_parser(
        "delegated",
        help="run workers and manage delegated operations",
        description="Run workers for delegated operations and inspect or manage them.",
    )
    parser.set_defaults(group_parser=parser)
    sub = parser.add_subparsers(dest="delegated_command", metavar="COMMAND")

    p = sub.add_parser(
        "launch",
        help="run a worker that executes queued operations",
        description="Run a worker that executes queued delegated operations, oldest first, "
        "until stopped (Ctrl-C or SIGTERM finish the current operation; a second one "
        "releases it to the queue).",
    )
    p.add_argument("--once", action="store_true", help="exit when no queued operation is left")
    p.add_argument("-l", "--limit", type=_positive_int, help="exit after running N operations")
    p.add_argument(
        "-t",
        "--type",
        choices=["local"],
        default="local",
        help="the type of service (FiftyOne's flag; 'local', this process, is the only one)",
    )
    p.add_argument("--target", help="only run operations for this delegation target")
    p.add_argument(
        "-o",
        "--operator",
        action="append",
        metavar="URI",
        help="only run operations of this operator (repeatable)",
    )
    p.add_argument(
        "--poll-interval",
        type=_positive_float,
        default=1.0,
        metavar="SECONDS",
        help="longest wait between polls when idle (default: 1)",
    )
    p.add_argument(
        "-c",
        "--concurrency",
        "--max-in-flight",
        dest="concurrency",
        type=_positive_int,
        metavar="N",
        help="operations run at once (default: 1 locally, the engine's free CPU slots on "
        "ray and dask)",
    )
    p.add_argument(
        "--backend",
        type=_backend,
        metavar="{local,ray,dask}",
        help="where operations run: local (this process), ray or dask (default: "
        "FIFTYONE_DELEGATED_BACKEND or local)",
    )
    p.add_argument(
        "--address",
        help="the Ray or Dask cluster to submit to (default: FIFTYONE_DELEGATED_BACKEND_ADDRESS"
        ", else a local cluster started for the worker's life)",
    )
    p.add_argument(
        "--lease-seconds",
        type=_positive_float,
        help="lease length (default: FIFTYONE_DELEGATED_OPERATION_LEASE_SECONDS or 60)",
    )
    p.add_argument("--worker-id", help="name of this worker (default: host:pid:random)")
    p.add_argument(
        "--runner",
        metavar="MODULE:FUNCTION",
        help="advanced: run operations with this callable instead of the operators layer",
    )
    p.add_argument(
        "-m",
        "--monitor",
        action="store_true",
        help="run each operation in a child process the worker watches: a crash, a hard exit "
        "or a memory blow-up fails that operation, and the worker goes on",
    )
    p.add_argument(
        "--max-memory",
        type=_memory,
        metavar="SIZE",
        help="with --monitor, the address space each operation may use (e.g. 4G, 512M)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="log only warnings")
    p.set_defaults(handler=_launch)

    delegated_run.register(sub, _positive_float)

    p = sub.add_parser("list", help="list delegated operations")
    p.add_argument("-o", "--operator", help="only operations of this operator URI")
    p.add_argument("-d", "--dataset", help="only operations on this dataset (name)")
    p.add_argument("-s", "--state", type=_state, help="only operations in this run state")
    p.add_argument("-t", "--target", help="only operations for this delegation target")
    p.add_argument("-m", "--match", help="operator URI or label containing this text")
    p.add_argument("--schedule", metavar="ID", help="only operations fired by this schedule")
    p.add_argument(
        "--sort-by", type=_sort_key, default="queued_at", help=f"one of {', '.join(_SORT_KEYS)}"
    )
    p.add_argument("-r", "--reverse", action="store_true", help="sort in reverse order")
    p.add_argument("-l", "--limit", type=_positive_int, help="show at most N operations")
    p.set_defaults(handler=_list)

    p = sub.add_parser("info", help="show everything about one operation")
    p.add_argument("id", metavar="ID")
    p.set_defaults(handler=_info)

    p = sub.add_parser("output", help="print an operation's result as JSON")
    p.add_argument("id", metavar="ID")
    p.set_defaults(handler=_output)

    p = sub.add_parser("fail", help="mark queued or running operations failed")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.set_defaults(handler=_fail)

    p = sub.add_parser("delete", help="delete operations (not running ones)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.set_defaults(handler=_delete)

    p = sub.add_parser("rerun", help="queue a completed or failed operation again")
    p.add_argument("id", metavar="ID")
    p.set_defaults(handler=_rerun)

    p = sub.add_parser(
        "cleanup",
        help="delete operations by operator, dataset, state or orphan status",
        description="Delete the (non-running) operations matching every given criterion.",
    )
    p.add_argument("-o", "--operator", help="operations of this operator URI")
    p.add_argument("-d", "--dataset", help="operations on this dataset (name)")
    p.add_argument("-s", "--state", type=_state, help="operations in this run state")
    p.add_argument(
        "--orphan", action="store_true", help="operations whose dataset no longer exists"
    )
    p.add_argument("--dry-run", action="store_true", help="show what would be deleted")
    p.set_defaults(handler=_cleanup)

    schedule.register(sub)  # `delegated schedule ...` and `delegated scheduler`


# -- formatting ----------------------------------------------------------------------------------


def _when(value: Any) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _state_text(doc: DelegatedOperation) -> str:
    text = doc.run_state.value
    if text == "running" and doc.progress is not None and doc.progress.percent is not None:
        text += f" ({doc.progress.percent}%)"
    return text


def _progress_text(doc: DelegatedOperation) -> str:
    if doc.progress is None:
        return ""
    parts = []
    if doc.progress.percent is not None:
        parts.append(f"{doc.progress.percent}%")
    if doc.progress.label:
        parts.append(doc.progress.label)
    return " ".join(parts)


def _json_text(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _print_ops(docs: list[DelegatedOperation]) -> None:
    print_table(
        ["id", "operator", "dataset", "queued_at", "state", "completed"],
        [
            (
                d.id,
                d.operator,
                d.dataset_name or "",
                _when(d.queued_at),
                _state_text(d),
                check(d.run_state.value == "completed"),
            )
            for d in docs
        ],
    )


def _service() -> Any:
    from ..operators.delegated import DelegatedOperationService

    return DelegatedOperationService()


# -- handlers ------------------------------------------------------------------------------------


def _launch(args: argparse.Namespace) -> int:
    import logging
    import sys

    from ..operators.orchestrator import Worker

    level = logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    loggers = [
        logging.getLogger(name)
        for name in ("fiftyone_plugins.operators.worker", "fiftyone_plugins.operators.service")
    ]
    saved = [(log.level, log.propagate) for log in loggers]
    for log in loggers:
        log.addHandler(handler)
        log.setLevel(level)
        log.propagate = False
    runner: Any = args.runner
    if args.max_memory and not args.monitor:
        args.command_parser.error("--max-memory applies to --monitor workers only")
    if args.monitor:
        from ..operators.monitor import MonitoredRunner

        runner = MonitoredRunner(args.runner, max_memory=args.max_memory)
    try:
        worker = Worker(
            _service(),
            runner=runner,
            worker_id=args.worker_id,
            delegation_target=args.target,
            operators=args.operator,
            once=args.once,
            limit=args.limit,
            poll_interval=args.poll_interval,
            concurrency=args.concurrency,
            lease_seconds=args.lease_seconds,
            handle_signals=True,
            backend=args.backend,
            address=args.address,
        )
        worker.run()
    finally:
        for log, (lvl, propagate) in zip(loggers, saved, strict=True):
            log.removeHandler(handler)
            log.setLevel(lvl)
            log.propagate = propagate
    return 0


def _list(args: argparse.Namespace) -> None:
    docs = _service().list_operations(
        operator=args.operator,
        dataset_name=args.dataset,
        run_state=args.state,
        delegation_target=args.target,
        match=args.match,
        sort_by=args.sort_by,
        reverse=args.reverse,
        limit=args.limit,
        schedule_id=args.schedule,
    )
    _print_ops(docs)


def _info(args: argparse.Namespace) -> None:
    doc = _service().get(args.id)
    context = doc.context or {}
    inputs = context.get("params", context.get("request_params", {}).get("params", {}))
    rows: list[tuple[str, Any]] = [
        ("id", doc.id),
        ("operator", doc.operator),
        ("label", doc.label or ""),
        ("run_state", _state_text(doc)),
        ("delegation_target", doc.delegation_target or ""),
        ("dataset_name", doc.dataset_name or ""),
        ("dataset_id", doc.dataset_id or ""),
        ("inputs", _json_text(inputs)),
        ("queued_at", _when(doc.queued_at)),
        ("scheduled_at", _when(doc.scheduled_at)),
        ("started_at", _when(doc.started_at)),
        ("completed_at", _when(doc.completed_at)),
        ("failed_at", _when(doc.failed_at)),
        ("updated_at", _when(doc.updated_at)),
        ("progress", _progress_text(doc)),
        ("worker_id", doc.worker_id or ""),
        ("lease_expires_at", _when(doc.lease_expires_at)),
        ("attempts", doc.attempts),
        ("pinned", check(doc.pinned)),
        ("metadata", _json_text(doc.metadata) if doc.metadata else ""),
        ("error", doc.error or ""),
        ("traceback", doc.error_trace or ""),
    ]
    rows += _lineage_rows(doc)
    print_key_values(rows)


def _lineage_rows(doc: DelegatedOperation) -> list[tuple[str, Any]]:
    """The schedule, parent and children of an operation (children: id, state, progress)."""
    rows: list[tuple[str, Any]] = []
    if doc.schedule_id:
        rows += [("schedule_id", doc.schedule_id), ("fire_time", _when(doc.fire_time))]
    if doc.parent_id:
        rows.append(("parent_id", doc.parent_id))
    children = _service().list_operations(parent_id=doc.id)
    if children:
        lines = [
            f"{c.id}  {c.metadata.get('stage_name') or c.operator}  {_state_text(c)}"
            for c in children
        ]
        rows.append(("children", lines))
    return rows


def _output(args: argparse.Namespace) -> None:
    from ..errors import DelegatedOperationError

    doc = _service().get(args.id)
    if doc.run_state.value == "failed":  # `null` would look like a result of None
        raise DelegatedOperationError(
            f"Operation {doc.id} failed: {doc.error or 'no error recorded'}", op_id=doc.id
        )
    if doc.run_state.value != "completed":
        raise DelegatedOperationError(
            f"Operation {doc.id} has no output yet: it is {_state_text(doc)}", op_id=doc.id
        )
    print_json(doc.result)


def _fail(args: argparse.Namespace) -> None:
    # every id (existence and state) is checked before anything changes; repeats count once
    for doc in _service().fail_operations(args.ids):
        print(f"Marked {doc.id} failed")


def _delete(args: argparse.Namespace) -> None:
    for doc in _service().delete_operations(args.ids):  # same checks as _fail
        print(f"Deleted {doc.id}")


def _rerun(args: argparse.Namespace) -> None:
    doc = _service().rerun_operation(args.id)
    print(doc.id)


def _cleanup(args: argparse.Namespace) -> None:
    docs = _service().cleanup(
        operator=args.operator,
        dataset_name=args.dataset,
        state=args.state,
        orphan=args.orphan,
        dry_run=args.dry_run,
    )
    if docs:
        _print_ops(docs)
    verb = "Would delete" if args.dry_run else "Deleted"
    print(f"{verb} {len(docs)} operation{'s' if len(docs) != 1 else ''}")
