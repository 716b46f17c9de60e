"""Authoring operators: :class:`Operator`, its :class:`OperatorConfig` and execution options.

A plugin subclasses :class:`Operator`, returns an :class:`OperatorConfig` from its ``config``
property and implements ``execute(ctx)``, which may be a plain function, ``async``, a
generator or an async generator. Every other hook is optional. Operators are created by the
loader with no arguments, so plugins written for FiftyOne (which passes ``_builtin``) and
plugins that define ``__init__(self)`` both work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .risk import RiskLevel, parse_risk_level

if TYPE_CHECKING:
    from .context import ExecutionContext

__all__ = [
    "BUILTIN_OPERATOR_PREFIX",
    "CONFIG_FIELDS",
    "ExecutionOptions",
    "Operator",
    "OperatorConfig",
]

#: the plugin name of FiftyOne's builtin operators
BUILTIN_OPERATOR_PREFIX = "@voxel51/operators"

#: every field ``operators info`` shows, in the reference's order
CONFIG_FIELDS = (
    "name",
    "label",
    "description",
    "execute_as_generator",
    "unlisted",
    "dynamic",
    "on_startup",
    "on_dataset_open",
    "disable_schema_validation",
    "delegation_target",
    "icon",
    "dark_icon",
    "light_icon",
    "allow_immediate_execution",
    "allow_delegated_execution",
    "default_choice_to_delegated",
    "resolve_execution_options_on_change",
)

#: fields ``to_json()`` adds to :data:`CONFIG_FIELDS`, as FiftyOne's config serializes them
JSON_ONLY_FIELDS = ("rerunnable", "allow_distributed_execution", "risk_level")


class OperatorConfig:
    """An operator's static description.

    Every field but ``risk_level`` is a plain attribute that may be changed after
    construction. Keywords this class does not know are kept in :attr:`kwargs` (FiftyOne adds
    fields over time, and plugins written for newer releases pass them). ``label`` defaults
    to ``name`` and ``resolve_execution_options_on_change`` to ``dynamic``. As in FiftyOne:
    ``risk_level`` (a ``types.RiskLevel``, or its name in any case) defaults to
    ``DANGEROUS`` and is read-only; ``allow_distributed_execution`` is accepted and is always
    ``False`` (FiftyOne's open-source release sets it so; a delegated operation runs in one
    worker here); ``rerunnable`` says whether ``delegated rerun`` may queue it again.
    """

    def __init__(
        self,
        name: str,
        label: str | None = None,
        description: str | None = None,
        dynamic: bool = False,
        execute_as_generator: bool = False,
        unlisted: bool = False,
        on_startup: bool = False,
        on_dataset_open: bool = False,
        disable_schema_validation: bool = False,
        delegation_target: str | None = None,
        icon: str | None = None,
        light_icon: str | None = None,
        dark_icon: str | None = None,
        allow_immediate_execution: bool = True,
        allow_delegated_execution: bool = False,
        default_choice_to_delegated: bool = False,
        resolve_execution_options_on_change: bool | None = None,
        allow_distributed_execution: bool = False,
        rerunnable: bool = True,
        risk_level: Any = None,
        view_target: bool = True,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.label = label or name
        self.description = description
        self.dynamic = dynamic
        self.execute_as_generator = execute_as_generator
        self.unlisted = unlisted
        self.on_startup = on_startup
        self.on_dataset_open = on_dataset_open
        self.disable_schema_validation = disable_schema_validation
        self.delegation_target = delegation_target
        self.icon = icon
        self.light_icon = light_icon
        self.dark_icon = dark_icon
        self.allow_immediate_execution = allow_immediate_execution
        self.allow_delegated_execution = allow_delegated_execution
        self.default_choice_to_delegated = default_choice_to_delegated
        self.resolve_execution_options_on_change = (
            dynamic
            if resolve_execution_options_on_change is None
            else resolve_execution_options_on_change
        )
        # accepted, never honoured: FiftyOne's open-source config forces it off too
        self.allow_distributed_execution = False
        self.rerunnable = rerunnable
        self._risk_level = parse_risk_level(risk_level)
        #: whether FiftyOne's forms add their view-target input to this operator's form
        self.view_target = view_target
        #: keywords this class does not know, kept as given
        self.kwargs = kwargs

    @property
    def risk_level(self) -> RiskLevel:
        """The declared :class:`~.types.RiskLevel` (read-only, as in FiftyOne)."""
        return self._risk_level

    def __getattr__(self, name: str) -> Any:
        # unknown keywords read like fields: OperatorConfig(name="x", foo=1).foo == 1
        kwargs = self.__dict__.get("kwargs")
        if kwargs is not None and name in kwargs:
            return kwargs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def to_json(self) -> dict[str, Any]:
        """The fields ``operators info`` shows, then ``rerunnable``,
        ``allow_distributed_execution`` and ``risk_level`` (its value), as plain data."""
        data = {field: getattr(self, field, None) for field in CONFIG_FIELDS}
        data["rerunnable"] = self.rerunnable
        data["allow_distributed_execution"] = self.allow_distributed_execution
        data["risk_level"] = self.risk_level.value
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class ExecutionOptions:
    """How an operation may run: immediately, delegated, and which is the default.

    When neither is allowed, immediate execution is allowed (as in the reference).
    """

    def __init__(
        self,
        allow_immediate_execution: bool = True,
        allow_delegated_execution: bool = False,
        default_choice_to_delegated: bool = False,
    ) -> None:
        if not allow_immediate_execution and not allow_delegated_execution:
            allow_immediate_execution = True
        self.allow_immediate_execution = bool(allow_immediate_execution)
        self.allow_delegated_execution = bool(allow_delegated_execution)
        self.default_choice_to_delegated = bool(default_choice_to_delegated)
        self.available_orchestrators: list[Any] = []

    def update(self, available_orchestrators: Sequence[Any] | None = None) -> None:
        self.available_orchestrators = list(available_orchestrators or [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "allow_immediate_execution": self.allow_immediate_execution,
            "allow_delegated_execution": self.allow_delegated_execution,
            "default_choice_to_delegated": self.default_choice_to_delegated,
            "available_orchestrators": [
                getattr(o, "__dict__", o) for o in self.available_orchestrators
            ],
        }

    to_json = to_dict

    def __repr__(self) -> str:
        return (
            f"ExecutionOptions(immediate={self.allow_immediate_execution}, "
            f"delegated={self.allow_delegated_execution})"
        )


class Operator:
    """An operation a plugin exposes: its config, input form, and what executing it does.

    ``plugin_name`` is set when the operator is registered; :attr:`uri` is
    ``"<plugin name>/<operator name>"``.
    """

    def __init__(self, _builtin: bool = False, **_: Any) -> None:
        self._builtin = _builtin
        self._plugin_secrets: list[str] | None = None
        self.plugin_name: str | None = BUILTIN_OPERATOR_PREFIX if _builtin else None

    # tolerate subclasses whose __init__ never calls ours
    def __getattr__(self, name: str) -> Any:
        if name == "_builtin":
            return False
        if name == "_plugin_secrets":
            return None
        if name == "plugin_name":
            return None
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def config(self) -> OperatorConfig:
        """The operator's :class:`OperatorConfig`; subclasses must implement it."""
        raise NotImplementedError("subclass must implement config")

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def uri(self) -> str:
        """``"<plugin name>/<operator name>"``."""
        return f"{self.plugin_name}/{self.name}"

    @property
    def builtin(self) -> bool:
        """Whether the operator ships with this library."""
        return bool(self._builtin)

    @property
    def is_panel(self) -> bool:
        return False

    @property
    def risk_level(self) -> RiskLevel:
        """The risk level the operator's config declares."""
        return parse_risk_level(getattr(self.config, "risk_level", None))

    # -- hooks -------------------------------------------------------------------------------

    def resolve_input(self, ctx: ExecutionContext) -> Any:
        """The input form (a ``types.Property``), or ``None``; params are validated against it."""
        return None

    def resolve_output(self, ctx: ExecutionContext) -> Any:
        """The output form (a ``types.Property``), or ``None``."""
        return None

    def resolve_type(self, ctx: ExecutionContext, type: str) -> Any:
        """``resolve_input`` for ``"inputs"``, ``resolve_output`` for ``"outputs"``."""
        if type == "inputs":
            return self.resolve_input(ctx)
        if type == "outputs":
            return self.resolve_output(ctx)
        raise ValueError(f"Invalid type {type!r}; expected 'inputs' or 'outputs'")

    def resolve_placement(self, ctx: ExecutionContext) -> Any:
        """Where a host UI shows the operator (a ``types.Placement``), or ``None``."""
        return None

    def resolve_delegation(self, ctx: ExecutionContext) -> bool | None:
        """``True`` forces delegation and ``False`` immediate execution through the default
        :meth:`resolve_execution_options` (an override of it decides instead); ``None``
        defers to the config and the request."""
        return None

    def resolve_execution_options(self, ctx: ExecutionContext) -> ExecutionOptions:
        """The allowed execution modes; by default from the config (or a forced delegation)."""
        return self.default_execution_options(self.resolve_delegation(ctx))

    def default_execution_options(
        self, forced: bool | None, config: OperatorConfig | None = None
    ) -> ExecutionOptions:
        """What the default :meth:`resolve_execution_options` gives once
        ``resolve_delegation`` answered ``forced`` (so the executor asks it only once);
        ``config`` is :attr:`config` when the caller has read it already."""
        if forced is not None:
            return ExecutionOptions(
                allow_immediate_execution=not forced, allow_delegated_execution=bool(forced)
            )
        if config is None:
            config = self.config
        return ExecutionOptions(
            allow_immediate_execution=config.allow_immediate_execution,
            allow_delegated_execution=config.allow_delegated_execution,
            default_choice_to_delegated=config.default_choice_to_delegated,
        )

    def execute(self, ctx: ExecutionContext) -> Any:
        """Performs the operation; returns JSON-serializable data or ``None``."""
        raise NotImplementedError("subclass must implement execute()")

    def __call__(self, *args: Any, **params: Any) -> Any:
        """Runs the operator with ``params`` as ``ctx.params`` (the default convention).

        A single positional argument is the dataset or view to operate on; ``delegate=True``
        requests delegated execution and ``delegation_target=`` names where. Operators that
        define their own ``__call__`` (as the reference's do) replace this.

        The one import of this module that reaches up the layers (see
        ``docs/architecture.md``): calling an operator means executing it, and the executor
        is built on this module. The instance itself is executed, registered or not.
        """
        from .executor import execute_operator  # deferred edge: authoring -> execution

        if len(args) > 1:
            raise TypeError(
                f"{type(self).__name__}() takes at most one positional argument (a dataset or "
                f"view); pass operator parameters as keywords"
            )
        delegate = params.pop("delegate", False)
        target = params.pop("delegation_target", None)
        ctx: dict[str, Any] = {}
        if args:
            ctx["view"] = args[0]
        return execute_operator(
            self, ctx, params=params, request_delegation=delegate, delegation_target=target
        )

    # -- helpers ------------------------------------------------------------------------------

    def method_to_uri(self, method_name: str) -> str:
        """``"<uri>#<method>"``: how a UI refers to a method of this operator."""
        return f"{self.uri}#{method_name}"

    @property
    def declared_secrets(self) -> Sequence[str]:
        """The secret keys this operator may read: its plugin's, plus :meth:`add_secrets`."""
        return self._plugin_secrets or ()

    def add_secrets(self, secrets: Sequence[str]) -> None:
        """Declares secret keys this operator may read (the plugin's are added at load)."""
        if not self._plugin_secrets:
            self._plugin_secrets = []
        for key in secrets:
            if key not in self._plugin_secrets:
                self._plugin_secrets.append(key)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_json(),
            "plugin_name": self.plugin_name,
            "_builtin": self.builtin,
            "uri": self.uri,
        }

    def __repr__(self) -> str:
        try:
            uri = self.uri
        except Exception:  # a broken config must not break repr
            uri = f"{self.plugin_name}/?"
        return f"<{type(self).__name__} {uri}>"
