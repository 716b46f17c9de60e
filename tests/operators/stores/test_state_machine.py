"""The service's state machine, on every backend: the store's compare-and-set enforces it."""

from __future__ import annotations

import datetime as dt

import pytest

from fiftyone_plugins.errors import InvalidStateTransitionError, OperationNotFoundError
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.stores.records import (
    TRANSITIONS,
    ExecutionRunState,
    utcnow,
)

Q, S, R, C, F = (
    ExecutionRunState.QUEUED,
    ExecutionRunState.SCHEDULED,
    ExecutionRunState.RUNNING,
    ExecutionRunState.COMPLETED,
    ExecutionRunState.FAILED,
)


@pytest.fixture
def service(store):
    return DelegatedOperationService(store, lease_seconds=30)


def in_state(service, state):
    """A new operation brought to ``state`` through the public API."""
    doc = service.queue_operation("@o/p/op", context={"params": {"x": 1}})
    if state is S:
        return service.set_scheduled(doc.id)
    if state in (R, C, F):
        doc = service.set_running(doc.id, worker_id="w1")
    if state is C:
        doc = service.set_completed(doc.id, result={"ok": True})
    if state is F:
        doc = service.set_failed(doc.id, error="boom", traceback="Traceback ...")
    return doc


MOVES = {
    S: lambda svc, i: svc.set_scheduled(i),
    R: lambda svc, i: svc.set_running(i, worker_id="w9"),
    C: lambda svc, i: svc.set_completed(i, result=1),
    F: lambda svc, i: svc.set_failed(i, error="x"),
}


@pytest.mark.parametrize("source", list(ExecutionRunState), ids=str)
@pytest.mark.parametrize("target", [S, R, C, F], ids=str)
def test_every_transition_follows_the_table(service, source, target):
    doc = in_state(service, source)
    allowed = target in TRANSITIONS[source]
    if allowed:
        assert MOVES[target](service, doc.id).run_state is target
    else:
        with pytest.raises(InvalidStateTransitionError, match=f"it is {source.value}"):
            MOVES[target](service, doc.id)
        assert service.get(doc.id).run_state is source


def test_terminal_records_keep_their_outcome(service):
    done = in_state(service, C)
    for change in (
        lambda: service.set_progress(done.id, 0.5),
        lambda: service.fail_operation(done.id),
        lambda: service.release_operation(done.id, "w1"),
    ):
        with pytest.raises(InvalidStateTransitionError):
            change()
    final = service.get(done.id)
    assert final.run_state is C and final.result == {"ok": True}
    failed = in_state(service, F)
    assert failed.error == "boom" and failed.error_trace == "Traceback ..."


def test_only_the_holding_worker_completes(service):
    doc = service.queue_operation("@o/p/op")
    claimed = service.claim_next("w1")
    assert claimed.id == doc.id
    with pytest.raises(InvalidStateTransitionError, match="held by w1"):
        service.set_completed(doc.id, 1, worker_id="w2")
    assert service.set_completed(doc.id, 2, worker_id="w1").result == 2


def test_rerun_only_from_terminal_states_creates_a_new_operation(service):
    for state in (Q, S, R):
        with pytest.raises(InvalidStateTransitionError, match="only completed or failed"):
            service.rerun_operation(in_state(service, state).id)
    for state in (C, F):
        old = in_state(service, state)
        new = service.rerun_operation(old.id)
        assert new.id != old.id and new.run_state is Q
        assert new.context == old.context and new.operator == old.operator
        assert new.metadata["rerun_of"] == old.id
        assert service.get(old.id).run_state is state


def test_delete_refuses_running_operations(service):
    running = in_state(service, R)
    with pytest.raises(InvalidStateTransitionError, match="running"):
        service.delete_operation(running.id)
    for state in (Q, S, C, F):
        doc = in_state(service, state)
        assert service.delete_operation(doc.id).id == doc.id
        with pytest.raises(OperationNotFoundError):
            service.get(doc.id)


def test_expired_leases_fail_or_requeue(service):
    lost = service.queue_operation("@o/p/lost")
    retried = service.queue_operation("@o/p/retry", metadata={"max_attempts": 2})
    assert service.claim_next("w1", lease_seconds=5).id == lost.id
    assert service.claim_next("w1", lease_seconds=5).id == retried.id
    assert service.resolve_expired_leases() == []
    later = utcnow() + dt.timedelta(seconds=6)
    changed = {d.id: d for d in service.resolve_expired_leases(now=later)}
    assert changed[lost.id].run_state is F
    assert "Worker lost" in changed[lost.id].error
    assert changed[retried.id].run_state is Q and changed[retried.id].worker_id is None
    again = service.claim_next("w2", lease_seconds=5)
    assert again.id == retried.id and again.attempts == 2
    # the second loss is final: attempts reached max_attempts
    final = service.resolve_expired_leases(now=utcnow() + dt.timedelta(seconds=6))
    assert [(d.id, d.run_state) for d in final] == [(retried.id, F)]
    # the lost worker's late result is refused
    with pytest.raises(InvalidStateTransitionError):
        service.set_completed(lost.id, 1, worker_id="w1")
