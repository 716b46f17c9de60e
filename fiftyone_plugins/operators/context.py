"""``ExecutionContext``: what an operator sees of the request it is running for.

The context wraps ``request_params``, a plain dict (``params``, ``dataset_name``,
``dataset_id``, ``view``, ``selected``, ``selected_labels``, ``current_sample``,
``delegated``, ``request_delegation``, ``delegation_target``, ``results``, ...), and may
also hold the host's dataset and view objects directly. Plugins construct it themselves
from ``request_params`` too, so every argument but the first is optional.

Datasets given by name or id are loaded on first access through the dataset resolver
(:mod:`fiftyone_plugins.operators.datasets`); one it cannot load raises
:class:`~fiftyone_plugins.errors.DatasetNotFoundError`. ``ctx.dataset``/``ctx.view`` are
``None`` when the request names no dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..secrets import SecretsDict
from . import targets
from .fanout_types import FanOutContext
from .invocation import Executor, InvocationRequest, prompt_request
from .operations import Operations
from .pipeline_types import PipelineContext

__all__ = ["ExecutionContext"]

logger = logging.getLogger("fiftyone_plugins.operators")


#: request keys that hold objects or are rebuilt by the worker, never stored as given
_OBJECT_KEYS = frozenset({"params", "view", "dataset", "secrets"})


def _from_request(key: str, empty: Callable[[], Any] | None = None) -> Any:
    """A read-only property: ``request_params[key]``, or ``empty()`` when it is unset."""
    if empty is None:
        return property(lambda self: self.request_params.get(key))
    return property(lambda self: self.request_params.get(key) or empty())


class ExecutionContext:
    """The execution context of one operator run.

    Args:
        request_params: the request as a dict (see the module docstring)
        executor: collects ``trigger``/``ops`` requests (created when omitted)
        set_progress: ``callback(progress, label)`` for :meth:`set_progress`
        delegated_operation_id: the id of the delegated operation being run, if any
        operator_uri: the URI of the operator being run
        required_secrets: the secret keys the plugin declares
        secrets: explicit secret values (a host that resolved them itself)
        dataset, view: the host's dataset and view objects, if it has them
    """

    def __init__(
        self,
        request_params: dict[str, Any] | None = None,
        executor: Executor | None = None,
        set_progress: Callable[..., Any] | None = None,
        delegated_operation_id: str | None = None,
        operator_uri: str | None = None,
        required_secrets: Iterable[str] | None = None,
        *,
        secrets: Mapping[str, Any] | None = None,
        dataset: Any = None,
        view: Any = None,
        plugin_name: str | None = None,
        resolver: Any = None,
    ) -> None:
        if request_params is None:
            request_params = {}
        self.request_params = request_params
        params = request_params.get("params")
        if params is None:
            params = request_params["params"] = {}
        #: the operator's parameters: a plain mutable dict
        self.params: dict[str, Any] = params
        #: collects ``trigger``/``ops`` requests; ``None`` until something is requested of a
        #: context built without one (FiftyOne's contexts have no executor by default)
        self.executor: Executor | None = executor
        self.user = request_params.get("user")
        self.event_args: dict[str, Any] = {}
        self._set_progress = set_progress
        self._delegated_operation_id = delegated_operation_id
        self._operator_uri = operator_uri or request_params.get("operator_uri")
        self._plugin_name = plugin_name
        self._required_secrets = required_secrets
        self._secret_values = secrets
        self._secrets: SecretsDict | None = None
        self._dataset = dataset
        self._view = view
        self._resolver = resolver
        self._ops: Operations | None = None
        self._panel: Any = None
        #: the last ``(progress, label)`` reported with :meth:`set_progress`
        self.progress: tuple[float | None, str | None] | None = None
        # whether (and how) resolve_input asked for the view target: FiftyOne's
        # Operator.resolve_type reads these to add the view-target input to the form
        self._view_target_resolved = False
        self._view_target_require_flat = False

    # -- the request ---------------------------------------------------------------------------

    @property
    def plugin_name(self) -> str | None:
        if self._plugin_name:
            return self._plugin_name
        uri = self._operator_uri
        return uri.rsplit("/", 1)[0] if uri and "/" in uri else None

    @property
    def resolver(self) -> Any:
        if self._resolver is None:
            from .datasets import get_resolver

            self._resolver = get_resolver()
        return self._resolver

    @property
    def dataset(self) -> Any:
        """The dataset being operated on, or ``None``."""
        if self._dataset is not None:
            return self._dataset
        key = self.request_params.get("dataset_id") or self.request_params.get("dataset_name")
        if key:
            dataset = self.resolver.load(key)
            name = self.request_params.get("dataset_name")
            if dataset is None and name and name != key:  # by id, then by name
                dataset = self.resolver.load(name)
            if dataset is None:  # never run against None: the operator would fail obscurely
                from .datasets import dataset_not_found

                raise dataset_not_found(key, self.resolver, self._operator_uri)
            self._dataset = dataset
            name = self.resolver.name_of(dataset)
            if name:  # the dataset may have been renamed since the request was made
                self.request_params["dataset_name"] = name
            return dataset
        if self._view is not None:
            self._dataset = self.resolver.dataset_of(self._view)
        return self._dataset

    @property
    def held_objects(self) -> tuple[Any, Any]:
        """``(dataset, view)``: the host objects this context holds so far (given, or loaded
        on an earlier access), without loading anything."""
        return self._dataset, self._view

    def check_dataset(self) -> None:
        """Fails now, with :class:`~fiftyone_plugins.errors.DatasetNotFoundError`, when the
        request names a dataset the resolver does not know and no object was given: run or
        queued, an operator given ``None`` would fail obscurely, or worse, succeed."""
        params = self.request_params
        key = params.get("dataset_id") or params.get("dataset_name")
        name = params.get("dataset_name")
        if (
            key
            and self._dataset is None
            and self._view is None
            and not self.resolver.exists(key)
            and not (name and name != key and self.resolver.exists(name))
        ):
            from .datasets import dataset_not_found

            raise dataset_not_found(key, self.resolver, self._operator_uri)

    def _names_a_dataset(self) -> bool:
        params = self.request_params
        return bool(params.get("dataset_id") or params.get("dataset_name") or self._view)

    @property
    def dataset_name(self) -> str | None:
        name = self.request_params.get("dataset_name")
        if name is None and self._dataset is not None:
            name = self.resolver.name_of(self._dataset)
        return name

    @property
    def dataset_id(self) -> str | None:
        uid = self.request_params.get("dataset_id")
        if uid is None and self._dataset is not None:
            uid = self.resolver.id_of(self._dataset)
        return uid

    @property
    def view(self) -> Any:
        """The view being operated on (the whole dataset when none was given), or ``None``.

        A request's ``view_name`` (a saved view), else its serialized ``view`` stages (with the
        App's ``filters``/``extended`` stages when the resolver understands them), else the
        dataset's default view."""
        if self._view is not None:
            return self._view
        dataset = self.dataset
        if dataset is None:
            return None
        params = self.request_params
        resolver = self.resolver
        view_name = params.get("view_name")
        filters, extended = params.get("filters"), params.get("extended")
        serialized = params.get("view")
        if view_name and callable(getattr(dataset, "load_saved_view", None)):
            self._view = dataset.load_saved_view(view_name)
        elif (filters or extended) and callable(getattr(resolver, "load_app_view", None)):
            self._view = resolver.load_app_view(dataset, serialized, filters, extended)
        elif serialized:
            self._view = resolver.load_view(dataset, serialized)
        else:
            self._view = resolver.default_view(dataset)
        return self._view

    # -- view targets (FiftyOne's ``inputs.view_target(ctx)`` and ``ctx.target_view()``) -------

    def target_view(self, param_name: str = "view_target", require_flat: bool = False) -> Any:
        """The collection the choice ``params[param_name]`` names (see :mod:`.targets`).
        Called in ``resolve_input``, it asks FiftyOne's forms for the view-target input."""
        self._view_target_resolved = True
        if require_flat:
            self._view_target_require_flat = True
        target = self.params.get(param_name)
        if target is None and param_name == "view_target":
            target = self.request_params.get("view_target")
        return targets.resolve(self, target, require_flat)

    view_target = target_view  # FiftyOne's alias

    def flatten_group_slices(
        self, sample_collection: Any = None, slices: Any = None, media_type: Any = None
    ) -> Any:
        """A grouped collection (the dataset by default) flattened (see :mod:`.targets`)."""
        return targets.flatten(self, sample_collection, slices, media_type)

    def get_group_slice_scopes(
        self, sample_collection: Any = None, require_flat: bool = False
    ) -> tuple[str | None, str | None]:
        """What the view and dataset targets cover on a grouped dataset, in words."""
        return targets.slice_scopes(self, sample_collection, require_flat)

    def get_unavailable_view_targets(self, require_flat: bool = False) -> dict[str, str]:
        """The view targets an operation needing a flat collection cannot use, with why."""
        return targets.unavailable(self, require_flat)

    @property
    def has_custom_view(self) -> bool:
        """Whether the request's view is something other than the whole dataset: serialized
        stages, App filters, a saved view, or a view object that is not the default one."""
        params = self.request_params
        if any(params.get(k) for k in ("view", "filters", "extended", "view_name")):
            return True
        held = self._view
        if held is None:
            return False
        is_default = getattr(self.resolver, "is_default_view", None)
        if callable(is_default):
            return not is_default(held)
        return not self.resolver.is_dataset(held)

    @property
    def selected(self) -> list[Any]:
        """The selected sample ids (``[]`` when none)."""
        return self.request_params.get("selected") or []

    @property
    def query_performance(self) -> Any:
        """Whether the App asked for query-performance mode (``None`` when not said)."""
        return self.request_params.get("query_performance")

    @property
    def num_distributed_tasks(self) -> None:
        """Always ``None``: runs are not distributed, as in FiftyOne's open-source release
        (whose property answers ``None`` whatever the request asks)."""
        return None

    operator_uri = property(lambda self: self._operator_uri)
    selected_labels = _from_request("selected_labels", list)
    current_sample = _from_request("current_sample")
    extended_selection = _from_request("extended_selection")
    group_slice = _from_request("group_slice")
    spaces = _from_request("spaces")
    delegated_operation_id = property(lambda self: self._delegated_operation_id)
    delegation_target = _from_request("delegation_target")
    results = _from_request("results", dict)
    prompt_id = property(lambda self: self.request_params.get("prompt_id"))
    active_fields = property(lambda self: self.request_params.get("active_fields") or [])

    @property
    def user_id(self) -> Any:
        user = self.user
        if user is None or isinstance(user, (str, int)):
            return user
        if isinstance(user, Mapping):
            return user.get("id")
        return getattr(user, "id", None)

    @property
    def delegated(self) -> bool:
        """Whether this run is a delegated operation executing in a worker."""
        return bool(self.request_params.get("delegated", False))

    @property
    def fanout(self) -> FanOutContext:
        """Which fan-out slice this run is (``.active`` False when it is not one)."""
        return FanOutContext.from_dict(self.request_params.get("fanout"))

    @property
    def pipeline(self) -> PipelineContext:
        """Where this run is in a pipeline (``.active`` False when it is not a stage)."""
        return PipelineContext.from_dict(self.request_params.get("pipeline"))

    @property
    def requesting_delegated_execution(self) -> bool:
        return bool(self.request_params.get("request_delegation", False))

    @property
    def panel_id(self) -> str | None:
        return self.params.get("panel_id")

    @property
    def panel_state(self) -> dict[str, Any]:
        """The invoking panel's state: ``params["panel_state"]``, as FiftyOne's App sends it
        (``params["state"]`` is accepted too)."""
        for key in ("panel_state", "state"):
            state = self.params.get(key)
            if isinstance(state, dict):
                return state
        return {}

    @property
    def panel(self) -> Any:
        """``ctx.panel``: state and data of the invoking panel."""
        if self._panel is None:
            from .panel import PanelRef

            self._panel = PanelRef(self)
        return self._panel

    # -- plugin settings and secrets -------------------------------------------------------------

    @property
    def plugin_settings(self) -> dict[str, Any]:
        """The plugin's settings: system-wide (App config) overlaid by dataset-specific ones.

        Dataset-specific settings come from ``request_params["plugin_settings"]`` or, when
        the host's dataset has one, ``dataset.app_config.plugins[<plugin name>]``.
        """
        from ..config import get_plugin_settings

        name = self.plugin_name
        settings = get_plugin_settings(name) if name else {}
        specific = self.request_params.get("plugin_settings")
        dataset = self._dataset
        if specific is None and dataset is None and self._names_a_dataset():
            dataset = self.dataset  # by name or id (always so in a worker): load it now
        if specific is None and dataset is not None:
            plugins = getattr(getattr(dataset, "app_config", None), "plugins", None)
            if isinstance(plugins, Mapping):
                specific = plugins.get(name)
        if isinstance(specific, Mapping):
            settings.update(specific)
        return settings

    def get_plugin_setting(self, key: str, default: Any = None) -> Any:
        return self.plugin_settings.get(key, default)

    @property
    def secrets(self) -> SecretsDict:
        """The plugin's declared secrets (see :mod:`fiftyone_plugins.secrets` for the rules)."""
        secrets = self._secrets
        if secrets is None:
            secrets = self._secrets = SecretsDict(self._required_secrets, self._secret_values)
        return secrets

    @property
    def has_secrets(self) -> bool:
        """Whether the plugin declares any secret (when not, nothing needs masking)."""
        return bool(self._required_secrets)

    def secret(self, key: str) -> str | None:
        """The value of the declared secret ``key``; ``None`` when unset or undeclared."""
        return self.secrets.get(key)

    async def resolve_secret_values(self, keys: Iterable[str], **kwargs: Any) -> None:
        """Accepted for compatibility: secrets are resolved on first access."""
        return None

    # -- talking to the host ------------------------------------------------------------------

    @property
    def ops(self) -> Operations:
        ops = self._ops
        if ops is None:
            ops = self._ops = Operations(self)
        return ops

    def trigger(
        self, operator_name: str, params: dict[str, Any] | None = None
    ) -> InvocationRequest:
        """Records a request to invoke ``operator_name``; returned in ``result.executor``."""
        return self._requests().trigger(operator_name, params)

    def _requests(self) -> Executor:
        executor = self.executor
        if executor is None:
            executor = self.executor = Executor()
        return executor

    def prompt(
        self,
        operator_uri: str,
        params: dict[str, Any] | None = None,
        on_success: Any = None,
        on_error: Any = None,
        skip_prompt: bool = False,
    ) -> InvocationRequest:
        """Asks the host to prompt its user for ``operator_uri``'s form (recorded)."""
        request = prompt_request(operator_uri, self.panel_id, params, on_success, on_error)
        return self.trigger("prompt_user_for_operation", {**request, "skip_prompt": skip_prompt})

    def log(self, message: str) -> InvocationRequest:
        """Logs ``message`` (debug level) and records a ``console_log`` request."""
        shown = self.secrets.mask(message) if self._required_secrets else message
        logger.debug("%s: %s", self._operator_uri, shown)
        self._requests().log(message)
        return self.trigger("console_log", {"message": message})

    def set_progress(self, progress: float | None = None, label: str | None = None) -> None:
        """Reports progress; stored on a delegated operation, harmless in immediate runs."""
        if label and self._required_secrets:  # a delegated run stores the label
            label = self.secrets.mask(str(label))
        self.progress = (progress, label)
        callback = self._set_progress
        if callback is not None:
            callback(progress, label)

    def store(self, store_name: str) -> Any:
        """The plugin's execution store ``store_name``, scoped to the dataset when there is one."""
        from .store import ExecutionStore

        plugin_name = self.plugin_name
        if not plugin_name:
            raise ValueError("ctx.store() needs to know the plugin: pass operator_uri")
        dataset_id = self.request_params.get("dataset_id")
        if dataset_id is None and (self._dataset is not None or self.dataset_name):
            dataset = self.dataset
            dataset_id = None if dataset is None else self.resolver.id_of(dataset)
        return ExecutionStore.create(store_name, dataset_id, plugin_name=plugin_name)

    # -- serialization: FiftyOne's two forms, and the request stored for delegation ----------
    def serialize(self) -> dict[str, Any]:
        """FiftyOne's form of :meth:`request_data`: ``{"request_params": ..., "params": ...}``
        (a delegated operation stored from it reads back the same)."""
        data = self.request_data()
        return {"request_params": data, "params": data["params"]}

    def to_dict(self) -> dict[str, Any]:
        """The public state, as FiftyOne's ``to_dict()``: ``executor`` (an object), ``params``,
        ``request_params``, ``user``, ``pipeline`` (a pipeline stage's data, else ``None``)."""
        return {
            "executor": self.executor,
            "params": self.params,
            "request_params": self.request_params,
            "user": self.user,
            "pipeline": self.request_params.get("pipeline"),
        }

    def request_data(self) -> dict[str, Any]:
        """The request as JSON-ready data, for delegation: never secrets nor host objects (the
        dataset becomes its name and id, the view is serialized by the resolver)."""
        data = {k: v for k, v in self.request_params.items() if k not in _OBJECT_KEYS}
        data["params"] = self.params
        if self._dataset is not None or self._view is not None:
            dataset = self.dataset
            if dataset is not None:
                data["dataset_name"] = self.dataset_name
                data["dataset_id"] = self.dataset_id
        view = self.request_params.get("view")
        if self._view is not None:
            view = self.resolver.serialize_view(self._view)
        if view is not None:  # a request without a view stays without one
            data["view"] = view
        user = data.get("user")
        if user is not None and not isinstance(user, (str, int, float, dict)):
            data["user"] = self.user_id
        return data

    def __getstate__(self) -> dict[str, Any]:
        # a pickled context must not carry secret values: the receiver resolves its own
        state = dict(self.__dict__)
        state["_secret_values"] = None
        state["_secrets"] = None
        return state

    def __repr__(self) -> str:
        return (
            f"ExecutionContext(operator_uri={self._operator_uri!r}, "
            f"params={sorted(self.params)!r}, dataset={self.dataset_name!r})"
        )
