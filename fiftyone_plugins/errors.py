"""The exception tree of fiftyone-plugins.

Every error the library raises on purpose derives from :class:`FiftyOnePluginsError`,
carries the context it is about (``.path``, ``.name``, ``.uri``, ``.url``, ``.op_id``) and
knows the exit code the CLI should use, so the CLI only catches the base class::

    FiftyOnePluginsError
    ├── ConfigError                      a config file is unreadable or invalid (.path)
    ├── PluginError                      about one plugin (.name)
    │   ├── PluginNotFoundError          no plugin of that name (.suggestions); also a
    │   │                                ValueError, which FiftyOne raises there
    │   ├── PluginDefinitionError        invalid fiftyone.yml (.path, .reason)
    │   ├── PluginExistsError            target already exists and overwrite is off
    │   ├── BuiltinPluginError           builtin plugins cannot be disabled or deleted
    │   ├── PluginLoadError              the plugin's Python code failed to import
    │   └── RequirementsError            requirements unreadable, unsatisfied or not installable
    ├── DownloadError                    fetching or installing plugins failed (.url)
    │   ├── SourceNotFoundError          repository, ref or URL does not exist or is private
    │   │                                (.status: the HTTP status)
    │   ├── RateLimitError               GitHub said no more requests until .reset_at
    │   │                                (a datetime, or None when GitHub did not say)
    │   ├── NetworkError                 unreachable host, timeout, truncated body
    │   ├── NotAnArchiveError            the bytes are not a zip or tar archive
    │   ├── UnsafeArchiveError           an archive entry was refused (.entry)
    │   └── NoPluginsFoundError          no manifest within max_depth
    ├── OperatorError                    about one operator (.uri)
    │   ├── OperatorNotFoundError        unknown URI (.suggestions); also a ValueError,
    │   │                                as FiftyOne's get_operator raises
    │   ├── OperatorRegistrationError    bad registration: duplicate, undeclared, bad config
    │   ├── ValidationError              parameters do not match the input schema (.errors)
    │   ├── ExecutionError               execute() raised, or the run could not finish
    │   │   ├── ExecutionTimeoutError    an immediate run exceeded its timeout
    │   │   ├── PipelineError            a pipeline stage failed (.outcomes: every stage's)
    │   │   └── FanOutError              a fan-out slice failed
    │   ├── DatasetNotFoundError         the request names a dataset the resolver cannot
    │   │                                load (.dataset)
    │   └── WriteOnlyError               reading a panel's write-only data (FiftyOne's
    │                                    name; also an AttributeError, as it always was)
    ├── DelegatedOperationError          about delegated operations (.op_id)
    │   ├── OperationNotFoundError       no operation with that id
    │   ├── InvalidStateTransitionError  e.g. deleting a running operation
    │   ├── ScheduleError                an invalid schedule: cron, interval, zone, policy
    │   │   │                            (.schedule_id)
    │   │   └── ScheduleNotFoundError    no schedule with that id
    │   ├── OperationNotClaimableError   `delegated run ID`: unknown, or no longer queued
    │   │                                (exit code 3)
    │   ├── BackendError                 about an execution backend (.backend)
    │   │   ├── BackendUnavailableError  its extra is missing or its cluster unreachable
    │   │   └── EngineTaskError          the engine lost or cancelled one operation's task
    │   │                                (.task: the engine task's name)
    │   └── StoreError                   the store is unreachable, locked or corrupt
    │       ├── CorruptRecordError       one stored record cannot be read back (.reason)
    │       └── UnstorableRecordError    the store refused the data itself (too large, not
    │                                    JSON, disk full): retrying cannot help; also a
    │                                    TypeError, as JSON refusals always were
    └── WebAppError                      the web app cannot start (the [web] extra is
                                         missing, the address cannot be bound)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FiftyOnePluginsError(Exception):
    """Base class of every error this library raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        for key, value in context.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message


def _with_suggestions(message: str, suggestions: Sequence[str], fallback: str = "") -> str:
    if suggestions:
        quoted = ", ".join(repr(s) for s in suggestions)
        return f"{message}; did you mean {quoted}?"
    return f"{message}{fallback}"


# -- configuration -----------------------------------------------------------------------------


class ConfigError(FiftyOnePluginsError):
    """A config file is unreadable or holds invalid values."""

    path: str | None

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message, path=path)


# -- plugins -----------------------------------------------------------------------------------


class PluginError(FiftyOnePluginsError):
    """An error about one plugin."""

    name: str | None

    def __init__(self, message: str, name: str | None = None, **context: Any) -> None:
        super().__init__(message, name=name, **context)


class PluginNotFoundError(PluginError, ValueError):
    """No plugin with the given name (or directory) exists."""

    suggestions: list[str]

    exit_code = 2

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        message = _with_suggestions(
            f"Plugin {name!r} not found",
            suggestions,
            "; download plugins with `fiftyone-plugins plugins download <user>/<repo>` "
            "or create one with `fiftyone-plugins plugins create <name>`",
        )
        super().__init__(message, name=name, suggestions=list(suggestions))


class PluginDefinitionError(PluginError):
    """A plugin manifest (``fiftyone.yml``) is missing, malformed or invalid."""

    def __init__(self, path: str, reason: str, name: str | None = None) -> None:
        super().__init__(f"Invalid plugin manifest {path}: {reason}", name=name)
        self.path = path
        self.reason = reason


class PluginExistsError(PluginError):
    """The target of a create/download already exists and ``overwrite`` is off."""


class BuiltinPluginError(PluginError):
    """Builtin plugins ship with the library and cannot be disabled or deleted."""


class PluginLoadError(PluginError):
    """Importing a plugin's Python entry point failed."""

    missing_module: str | None

    def __init__(
        self, message: str, name: str | None = None, missing_module: str | None = None
    ) -> None:
        super().__init__(message, name=name, missing_module=missing_module)


class RequirementsError(PluginError):
    """A plugin's requirements are unreadable, unsatisfied or failed to install."""


# -- downloads ---------------------------------------------------------------------------------


class DownloadError(FiftyOnePluginsError):
    """Fetching or installing plugins from a URL, repository or archive failed."""

    url: str | None

    def __init__(self, message: str, url: str | None = None, **context: Any) -> None:
        super().__init__(message, url=url, **context)


class SourceNotFoundError(DownloadError):
    """The repository, ref or URL does not exist, or is private and no token was given."""


class RateLimitError(DownloadError):
    """GitHub's API rate limit was hit; ``reset_at`` says when it resets, if known."""


class NetworkError(DownloadError):
    """The host was unreachable, timed out, or the body was truncated."""


class NotAnArchiveError(DownloadError):
    """The downloaded bytes are not a zip or tar archive."""


class UnsafeArchiveError(DownloadError):
    """An archive entry would escape its target or exceeds the configured limits."""

    entry: str | None

    def __init__(self, message: str, entry: str | None = None, url: str | None = None) -> None:
        super().__init__(message, url=url, entry=entry)


class NoPluginsFoundError(DownloadError):
    """No plugin manifest was found within the searched depth."""


# -- operators ---------------------------------------------------------------------------------


class OperatorError(FiftyOnePluginsError):
    """An error about one operator."""

    uri: str | None

    def __init__(self, message: str, uri: str | None = None, **context: Any) -> None:
        super().__init__(message, uri=uri, **context)


class OperatorNotFoundError(OperatorError, ValueError):
    """No operator with the given URI is registered."""

    suggestions: list[str]

    exit_code = 2

    def __init__(self, uri: str, suggestions: Sequence[str] = (), reason: str = "") -> None:
        base = f"Operator {uri!r} not found" + (f" ({reason})" if reason else "")
        message = _with_suggestions(
            base, suggestions, "; list operators with `fiftyone-plugins operators list`"
        )
        super().__init__(message, uri=uri, suggestions=list(suggestions))


class OperatorRegistrationError(OperatorError):
    """A plugin registered an operator badly (duplicate, undeclared, invalid config)."""


class ValidationError(OperatorError):
    """Parameters failed validation against the operator's input schema.

    ``errors`` holds one ``(path, reason)`` pair per bad parameter.
    """

    errors: list[tuple[str, str]]

    def __init__(self, errors: Sequence[tuple[str, str]], uri: str | None = None) -> None:
        lines = [f"Validation error. Path: {path}. Reason: {reason}" for path, reason in errors]
        super().__init__("\n".join(lines) or "Validation error", uri=uri, errors=list(errors))


class ExecutionError(OperatorError):
    """An operator's execution failed."""


class ExecutionTimeoutError(ExecutionError):
    """An immediate execution exceeded the configured timeout."""


class PipelineError(ExecutionError):
    """A stage of a pipeline failed; ``outcomes`` lists every stage's outcome (completed,
    failed or skipped), as the pipeline's result would have."""

    outcomes: list[dict[str, Any]]

    def __init__(self, message: str, outcomes: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.outcomes = list(outcomes)


class FanOutError(ExecutionError):
    """A slice of a fan-out failed (the parent fails with it)."""


class WriteOnlyError(OperatorError, AttributeError):
    """A panel's data (``ctx.panel.data``) was read: it is write-only, as in FiftyOne."""


class DatasetNotFoundError(OperatorError):
    """The request names a dataset (by name or id) that the dataset resolver cannot load."""

    dataset: str | None

    exit_code = 2


# -- delegated operations ----------------------------------------------------------------------


class DelegatedOperationError(FiftyOnePluginsError):
    """An error about delegated operations."""

    op_id: str | None

    def __init__(self, message: str, op_id: str | None = None, **context: Any) -> None:
        super().__init__(message, op_id=op_id, **context)


class OperationNotFoundError(DelegatedOperationError):
    """No delegated operation has the given id (or the id is malformed)."""

    exit_code = 2


class InvalidStateTransitionError(DelegatedOperationError):
    """The requested change is not allowed from the operation's current run state."""


class ScheduleError(DelegatedOperationError):
    """A schedule cannot be created or changed as asked: a bad cron expression, interval,
    time zone or policy, or a missing optional dependency (``fiftyone-plugins[schedules]``)."""

    schedule_id: str | None

    def __init__(self, message: str, schedule_id: str | None = None) -> None:
        super().__init__(message, schedule_id=schedule_id)


class ScheduleNotFoundError(ScheduleError):
    """No schedule has the given id (or the id is malformed)."""

    exit_code = 2


class OperationNotClaimableError(DelegatedOperationError):
    """The operation asked for by id cannot be claimed: it does not exist or is no longer
    queued (``delegated run ID`` exits with code 3, which a scheduler can tell apart from a
    failed run)."""

    exit_code = 3


class BackendError(DelegatedOperationError):
    """An execution backend (local, Ray, Dask) could not do what the worker asked."""

    backend: str | None

    def __init__(self, message: str, backend: str | None = None, **context: Any) -> None:
        super().__init__(message, backend=backend, **context)


class BackendUnavailableError(BackendError):
    """The backend cannot be used at all: its optional package is missing, or its cluster
    cannot be reached. Raised before the worker claims anything, so the queue is untouched."""


class EngineTaskError(BackendError):
    """The engine lost one operation's task (its engine worker died, or the cluster went
    away) or cancelled it; ``task`` is the engine task's name. The operation is failed, or
    requeued when its attempt policy allows, by the dispatching worker."""

    task: str | None


class StoreError(DelegatedOperationError):
    """The delegated-operation store is unreachable, locked or corrupt."""


class CorruptRecordError(StoreError):
    """A stored record cannot be read back: its JSON is invalid or holds impossible values.

    ``reason`` is the decoding error. Listing or reading such a record raises this error
    (naming the record); claims and lease resolution mark it failed instead, so one bad
    record never blocks the queue.
    """

    reason: str

    def __init__(self, op_id: str, where: str, reason: str) -> None:
        super().__init__(
            f"The delegated operation {op_id} stored in {where} is corrupt ({reason}); "
            f"delete it with `fiftyone-plugins delegated delete {op_id}`",
            op_id=op_id,
            reason=reason,
        )


class UnstorableRecordError(StoreError, TypeError):
    """The store refused a record's *data*, not the connection: a result too large for a
    document, a value JSON cannot hold, a full disk. Writing the same data again cannot
    succeed, so a worker records a failure saying so instead of retrying."""


# -- the web app -------------------------------------------------------------------------------


class WebAppError(FiftyOnePluginsError):
    """The local web app (``app launch``) cannot start: its extra is missing, or the address
    cannot be bound."""


__all__ = sorted(
    name
    for name, value in list(globals().items())
    if isinstance(value, type) and issubclass(value, FiftyOnePluginsError)
)
