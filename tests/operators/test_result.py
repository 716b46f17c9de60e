"""ExecutionResult: the one way outcomes are built, and the one serialization of a result."""

from __future__ import annotations

import json

import pytest

from fiftyone_plugins.errors import ExecutionError, UnstorableRecordError
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.orchestrator import Worker
from fiftyone_plugins.operators.result import ExecutionResult
from fiftyone_plugins.operators.stores.records import ExecutionRunState, encode_result
from fiftyone_plugins.secrets import SecretsDict


class FiftyOneStyleResult:
    """Shaped like FiftyOne's ExecutionResult: ``result`` and ``error`` attributes."""

    def __init__(self, result=None, error=None):
        self.result = result
        self.error = error


def test_outcomes_of_every_shape_read_the_same():
    assert ExecutionResult.from_outcome({"a": 1}).result == {"a": 1}
    theirs = ExecutionResult.from_outcome(FiftyOneStyleResult(error=ValueError("bad")))
    assert theirs.error == "bad" and theirs.failed
    ours = ExecutionResult(result=2)
    assert ExecutionResult.from_outcome(ours) is ours


def test_a_failure_masks_secret_values_and_drops_the_exception(monkeypatch):
    monkeypatch.setenv("FOP_RESULT_SECRET", "s3cr3t-value")
    secrets = SecretsDict(["FOP_RESULT_SECRET"])
    result = ExecutionResult.from_exception(
        RuntimeError("token s3cr3t-value refused"), uri="@a/b/c", secrets=secrets
    )
    assert "s3cr3t-value" not in result.error and "***" in result.error
    assert "s3cr3t-value" not in (result.error_trace or "")
    error = result.to_exception()
    assert isinstance(error, ExecutionError) and error.__cause__ is None


def test_sys_exit_is_named_as_such():
    result = ExecutionResult.from_exception(SystemExit(3), uri="@a/b/c")
    assert "sys.exit(3)" in result.error


def test_a_result_json_cannot_hold_is_a_typed_refusal():
    with pytest.raises(UnstorableRecordError, match="JSON-serializable") as info:
        encode_result({"x": object()})
    assert isinstance(info.value, TypeError)


def test_a_recorded_result_is_serialized_once(tmp_path, monkeypatch):
    service = DelegatedOperationService(f"sqlite:///{tmp_path / 'ops.db'}")
    doc = service.queue_operation("@o/p/x")
    marker = "result-serialized-" + "x" * 20
    real_dumps, seen = json.dumps, []

    def counting(value, *args, **kwargs):
        text = real_dumps(value, *args, **kwargs)
        if marker in text:
            seen.append(text)
        return text

    monkeypatch.setattr(json, "dumps", counting)
    Worker(service, runner=lambda d, cb: {"big": [marker]}, once=True).run()
    monkeypatch.setattr(json, "dumps", real_dumps)
    final = service.get(doc.id)
    assert final.run_state is ExecutionRunState.COMPLETED and final.result == {"big": [marker]}
    assert len(seen) == 1


def test_a_result_mongodb_refuses_is_recorded_as_a_failure(mongod_uri):
    from _mongod import unique_db_uri

    service = DelegatedOperationService(unique_db_uri(mongod_uri, "toolarge"))
    doc = service.queue_operation("@o/p/x")
    too_large = "x" * (17 * 1024 * 1024)  # past MongoDB's 16 MB document limit
    stats = Worker(service, runner=lambda d, cb: too_large, once=True).run()
    final = service.get(doc.id)
    assert stats.failed == 1 and final.run_state is ExecutionRunState.FAILED
    assert "could not be stored" in final.error and "DocumentTooLarge" in final.error
    service.store.drop()


def test_a_store_that_takes_no_encoded_results_gets_the_plain_value():
    from fiftyone_plugins.operators.stores.memory import MemoryStore

    seen = []

    class PlainStore(MemoryStore):
        accepts_encoded_results = False

        def update(self, op_id, changes, **kwargs):
            if "result" in changes:
                seen.append(json.dumps(changes["result"]))  # a plain, JSON-ready value
            return super().update(op_id, changes, **kwargs)

    service = DelegatedOperationService(PlainStore())
    doc = service.queue_operation("@o/p/x")
    service.set_running(doc.id, worker_id="w")
    assert service.set_completed(doc.id, {"a": [1]}, worker_id="w").result == {"a": [1]}
    assert seen == ['{"a": [1]}']
