"""``delegated schedule add|list|info|pause|resume|delete`` and ``delegated scheduler``.

Hooked into the ``delegated`` group by :func:`register`. Times are stored in UTC and shown in
each schedule's own zone. ``schedule add`` prints the new schedule's id on its last line, so
scripts can take it with ``tail -n 1``.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ._output import check, print_key_values, print_table

if TYPE_CHECKING:
    import datetime as _dt

    from ..operators.stores.schedule_records import ScheduleDoc

__all__ = ["register"]


def _json_object(value: str) -> dict[str, Any]:
    try:
        data = json.loads(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"invalid JSON: {e}") from None
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return data


def register(sub: Any) -> None:
    """Adds ``schedule`` and ``scheduler`` to the ``delegated`` subcommands ``sub``."""
    parser = sub.add_parser(
        "schedule",
        help="recurring schedules of delegated operations",
        description="Create and manage schedules that queue an operator run at recurring "
        "times (run `delegated scheduler`, or several, to fire them).",
    )
    parser.set_defaults(group_parser=parser)
    commands = parser.add_subparsers(dest="schedule_command", metavar="COMMAND")

    p = commands.add_parser("add", help="create a schedule; prints its id last")
    p.add_argument("operator", metavar="URI", help="the operator to run")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help="a cron expression, e.g. '30 1 * * *'")
    when.add_argument(
        "--every", metavar="DURATION", help="a fixed interval: 30s, 5m, 2h, 1d or seconds"
    )
    p.add_argument("--tz", default="UTC", help="the IANA zone of the cron times (default UTC)")
    p.add_argument("--params", type=_json_object, default=None, help="the params as JSON")
    p.add_argument("-d", "--dataset", help="the dataset (name) each run targets")
    p.add_argument("--label", help="a label for the schedule and its operations")
    p.add_argument("--target", help="the delegation target of the operations")
    p.add_argument(
        "--catchup",
        choices=["latest", "none"],
        default="latest",
        help="missed fire times: run once for the latest (default) or not at all",
    )
    p.add_argument(
        "--misfire-grace",
        metavar="DURATION",
        default="60s",
        help="how late a fire still counts as on time (default 60s)",
    )
    p.add_argument(
        "--overlap",
        choices=["skip", "allow"],
        default="skip",
        help="while the previous run is queued or running: skip the fire (default) or queue",
    )
    p.add_argument("--start", metavar="ISO_TIME", help="first possible fire time")
    p.add_argument("--end", metavar="ISO_TIME", help="last possible fire time")
    p.add_argument("--paused", action="store_true", help="create it paused")
    p.set_defaults(handler=_add)

    p = commands.add_parser("list", help="list schedules")
    p.set_defaults(handler=_list)

    p = commands.add_parser("info", help="show a schedule and its next fire times")
    p.add_argument("id", metavar="ID")
    p.add_argument("-n", "--count", type=int, default=5, help="how many next fire times")
    p.set_defaults(handler=_info)

    for name, handler, text in (
        ("pause", _pause, "stop firing a schedule"),
        ("resume", _resume, "fire a paused schedule again (no backfill)"),
        ("delete", _delete, "delete a schedule (its operations stay)"),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("id", metavar="ID")
        p.set_defaults(handler=handler)

    p = sub.add_parser(
        "scheduler",
        help="fire due schedules until stopped",
        description="Fire due schedules, queueing one operation per fire time, until "
        "stopped (Ctrl-C or SIGTERM). Any number may run at once against one store.",
    )
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="longest wait between passes (default: 1)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="log only warnings")
    p.set_defaults(handler=_scheduler)


# -- formatting ----------------------------------------------------------------------------------


def _service() -> Any:
    from ..operators.schedules import ScheduleService

    return ScheduleService()


def _local(doc: ScheduleDoc, value: _dt.datetime | None) -> str:
    """A stored (UTC) time in the schedule's zone."""
    if value is None:
        return ""
    from ..operators.triggers import time_zone

    return value.astimezone(time_zone(doc.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _state(doc: ScheduleDoc) -> str:
    if doc.next_fire_at is None:
        return "ended"
    return "active" if doc.enabled else "paused"


# -- handlers ------------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> None:
    doc = _service().add_schedule(
        args.operator,
        cron=args.cron,
        every=args.every,
        timezone=args.tz,
        params=args.params,
        dataset_name=args.dataset,
        label=args.label,
        delegation_target=args.target,
        catchup=args.catchup,
        misfire_grace=args.misfire_grace,
        overlap=args.overlap,
        start_at=args.start,
        end_at=args.end,
        enabled=not args.paused,
    )
    print(f"Next fire time: {_local(doc, doc.next_fire_at) or 'none'}")
    print(doc.id)


def _list(args: argparse.Namespace) -> None:
    docs = _service().list_schedules()
    print_table(
        ["id", "operator", "trigger", "tz", "state", "next_fire", "label"],
        [
            (
                d.id,
                d.operator,
                d.trigger_text,
                d.timezone,
                _state(d),
                _local(d, d.next_fire_at),
                d.label or "",
            )
            for d in docs
        ],
    )


def _info(args: argparse.Namespace) -> None:
    service = _service()
    doc = service.get_schedule(args.id)
    upcoming = service.next_fire_times(doc, max(0, args.count))
    rows: list[tuple[str, Any]] = [
        ("id", doc.id),
        ("operator", doc.operator),
        ("label", doc.label or ""),
        ("trigger", doc.trigger_text),
        ("timezone", doc.timezone),
        ("state", _state(doc)),
        ("enabled", check(doc.enabled)),
        ("catchup", doc.catchup.value),
        ("misfire_grace", f"{doc.misfire_grace_seconds:g}s"),
        ("overlap", doc.overlap.value),
        ("delegation_target", doc.delegation_target or ""),
        ("dataset_name", doc.dataset_name or ""),
        ("params", json.dumps(doc.context.get("params", {}), sort_keys=True)),
        ("start_at", _local(doc, doc.start_at)),
        ("end_at", _local(doc, doc.end_at)),
        ("next_fire_times", [_local(doc, t) for t in upcoming]),
        ("last_fire_at", _local(doc, doc.last_fire_at)),
        ("last_operation_id", doc.last_operation_id or ""),
        ("created_at", _local(doc, doc.created_at)),
    ]
    print_key_values(rows)


def _pause(args: argparse.Namespace) -> None:
    doc = _service().pause(args.id)
    print(f"Paused {doc.id}")


def _resume(args: argparse.Namespace) -> None:
    doc = _service().resume(args.id)
    print(f"Resumed {doc.id}; next fire time: {_local(doc, doc.next_fire_at) or 'none'}")


def _delete(args: argparse.Namespace) -> None:
    _service().delete_schedule(args.id)
    print(f"Deleted {args.id}")


def _scheduler(args: argparse.Namespace) -> int:
    import logging
    import signal
    import sys

    from ..operators.scheduler import Scheduler

    if not 0 < args.poll_interval <= 1e9:
        raise SystemExit("--poll-interval must be a positive number of seconds")
    log = logging.getLogger("fiftyone_plugins.scheduler")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    saved = log.level, log.propagate
    log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    log.propagate = False
    scheduler = Scheduler(_service(), poll_interval=args.poll_interval, once=args.once)
    previous = signal.signal(signal.SIGTERM, lambda *_: scheduler.stop())
    try:
        scheduler.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]
    return 0
