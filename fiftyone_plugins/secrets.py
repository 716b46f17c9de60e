"""Plugin secrets: the values a plugin declares under ``secrets`` in its ``fiftyone.yml``.

Values come from *providers*, asked in order; the first that knows a key wins. The
environment (``os.environ``) is always asked first, so ``FIFTYONE_CVAT_URL=... python ...``
works as in the reference; hosts add their own (a vault, a keyring) with
:func:`register_provider`. A provider is any object with ``get(key) -> str | None``.

The rule for unset secrets (the same in every hook, ``resolve_input`` to ``execute``):

- ``ctx.secrets[key]``, ``ctx.secrets.get(key)`` and ``ctx.secret(key)`` give ``None`` for a
  declared secret that no provider knows, and for an empty value: never ``""``.
- ``key in ctx.secrets``, ``keys()``, ``items()``, ``values()``, ``len()`` and iteration
  cover only secrets that are *declared and set*. (FiftyOne's ``in`` is true for declared
  but unset keys; here it answers "can I use this secret?".)
- Undeclared keys are invisible even when the environment has them: ``[]`` gives ``None``,
  ``get(key, default)`` gives ``default``.

Secret values never appear in a :class:`SecretsDict`'s ``repr``/``str``, are not
JSON-serializable through it, and the executor keeps them out of logs, error messages,
``to_json()`` and anything stored for delegation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

__all__ = [
    "EnvSecretProvider",
    "EnvironmentProvider",
    "ISecret",
    "PluginSecretsResolver",
    "UnencryptedSecret",
    "SecretsDict",
    "SecretsProvider",
    "get_providers",
    "redact",
    "register_provider",
    "resolve_secret",
    "unregister_provider",
]

REDACTED = "***"


class SecretsProvider(Protocol):
    """Where secret values come from."""

    def get(self, key: str) -> str | None:
        """The value of ``key``, or ``None`` when this provider does not know it."""
        ...


class EnvironmentProvider:
    """Reads secrets from environment variables of the same name."""

    def get(self, key: str) -> str | None:
        return os.environ.get(key)

    def __repr__(self) -> str:
        return "EnvironmentProvider()"


_ENVIRONMENT = EnvironmentProvider()
_providers: list[SecretsProvider] = []
_lock = threading.Lock()


def register_provider(provider: SecretsProvider) -> None:
    """Adds a provider, asked after the environment and the providers added before it."""
    if not callable(getattr(provider, "get", None)):
        raise TypeError("A secrets provider needs a get(key) -> str | None method")
    with _lock:
        if provider not in _providers:
            _providers.append(provider)


def unregister_provider(provider: SecretsProvider) -> None:
    """Removes a provider added with :func:`register_provider` (unknown ones are ignored)."""
    with _lock:
        if provider in _providers:
            _providers.remove(provider)


def get_providers() -> list[SecretsProvider]:
    """The providers in the order they are asked (the environment first)."""
    return [_ENVIRONMENT, *_providers]


def resolve_secret(key: str) -> str | None:
    """The value of ``key`` from the first provider that has a non-empty one, else ``None``."""
    value = os.environ.get(key)
    if value:
        return value
    for provider in list(_providers):
        value = provider.get(key)
        if value:
            return str(value)
    return None


class SecretsDict(Mapping[str, Any]):
    """A read-only mapping of a plugin's declared secrets, resolved on first access.

    See the module docstring for the rules; in short: only declared keys are visible, unset
    ones read as ``None`` and are not ``in`` the mapping, and values never show in reprs.
    """

    __slots__ = ("_declared", "_values", "_overrides")

    def __init__(
        self, declared: Iterable[str] | None = None, values: Mapping[str, Any] | None = None
    ) -> None:
        self._declared: tuple[str, ...] = tuple(declared or ())
        # explicit values (a host that resolved them itself) win over providers
        self._overrides = dict(values) if values else None
        self._values: dict[str, str | None] | None = None

    def _resolved(self) -> dict[str, str | None]:
        values = self._values
        if values is None:
            overrides = self._overrides or {}
            values = {}
            for key in self._declared:
                value = overrides.get(key) if key in overrides else resolve_secret(key)
                values[key] = value if value not in ("", None) else None
            self._values = values
        return values

    @property
    def declared(self) -> tuple[str, ...]:
        """Every key the plugin declares, set or not."""
        return self._declared

    def __getitem__(self, key: str) -> Any:
        if key not in self._declared:
            return None
        return self._resolved().get(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        value = self[key]
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return key in self._declared and self._resolved().get(key) is not None  # type: ignore[call-overload]

    def __iter__(self) -> Iterator[str]:
        return (k for k, v in self._resolved().items() if v is not None)

    def __len__(self) -> int:
        return sum(1 for v in self._resolved().values() if v is not None)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k!r}: {REDACTED!r}" for k in self)
        return f"SecretsDict({{{shown}}})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Secrets cannot be pickled")

    def _set_values(self) -> list[str]:
        """The values that were actually resolved (for redaction); empty if never read."""
        if self._values is None:
            return []
        return [v for v in self._values.values() if v]

    def values_to_mask(self) -> list[str]:
        """Every declared secret's value (resolving them): what must never be stored, logged
        or shown."""
        return [v for v in self._resolved().values() if v] if self._declared else []

    def has_values(self) -> bool:
        """Whether any declared secret has a value (resolving them)."""
        return bool(self.values_to_mask())

    def mask(self, text: str) -> str:
        """``text`` with every declared secret's value replaced by ``***``."""
        return redact(text, self.values_to_mask()) if self._declared else text

    def mask_data(self, data: Any) -> Any:
        """A copy of JSON-like ``data`` with every declared secret's value masked."""
        return redact_data(data, self.values_to_mask()) if self._declared else data

    _all_values = values_to_mask  # the earlier private name


# -- FiftyOne's names (``fiftyone.plugins.secrets``, ``fiftyone.internal.secrets``) -----------


class ISecret:
    """A resolved secret as FiftyOne's secrets API returns it: ``key`` and ``value``;
    masked in ``repr``/``str``."""

    def __init__(self, key: str, value: Any) -> None:
        self._key = key
        self._value = value

    @property
    def key(self) -> str:
        return self._key

    @property
    def value(self) -> Any:
        return self._value

    @property
    def is_encrypted(self) -> bool:
        return False

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        # as in FiftyOne, a secret equals another secret or a string holding the same value
        if isinstance(other, ISecret):
            other = other.value
        if not isinstance(other, (str, bytes)) or not other:
            return False
        return str(self._value) == str(other)

    def __hash__(self) -> int:
        return hash(str(self._value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self._key!r}, value={REDACTED!r})"

    __str__ = __repr__


class UnencryptedSecret(ISecret):
    """A secret held as plain text (the only kind this library has)."""


class EnvSecretProvider:
    """FiftyOne's provider interface over this library's providers (the environment first,
    then those registered with :func:`register_provider`)."""

    def get_sync(self, key: str, **kwargs: Any) -> UnencryptedSecret | None:
        value = resolve_secret(key)
        return None if value is None else UnencryptedSecret(key, value)

    async def get(self, key: str, **kwargs: Any) -> UnencryptedSecret | None:
        return self.get_sync(key)

    async def get_multiple(
        self, keys: Iterable[str], **kwargs: Any
    ) -> dict[str, UnencryptedSecret | None]:
        return {key: self.get_sync(key) for key in keys}


class PluginSecretsResolver:
    """FiftyOne's resolver of operators' declared secrets: an operator's URI is registered
    with the keys its plugin declares; only those keys resolve for it (any other is ``None``,
    logged as an error, as in FiftyOne). One instance per process."""

    _instance: PluginSecretsResolver | None = None
    #: operator URI -> the keys its plugin declares (FiftyOne's attribute name)
    _registered_secrets: dict[str, list[str]] = {}

    def __new__(cls) -> PluginSecretsResolver:
        if cls._instance is None:
            instance = super().__new__(cls)
            instance.client = EnvSecretProvider()
            cls._instance = instance
        return cls._instance

    client: EnvSecretProvider

    def register_operator(self, operator_uri: str, required_secrets: Iterable[str]) -> None:
        self._registered_secrets[operator_uri] = list(required_secrets or ())

    def _allowed(self, keys: Iterable[str], operator_uri: str) -> list[str] | None:
        import logging

        declared = self._registered_secrets.get(operator_uri)
        wanted = list(keys)
        if not declared:
            logging.getLogger("fiftyone_plugins").error(
                "Cannot resolve secrets for unregistered operator %r", operator_uri
            )
            return None
        if any(key not in declared for key in wanted):
            logging.getLogger("fiftyone_plugins").error(
                "Cannot resolve secrets %s: the plugin definition does not declare them",
                wanted,
            )
            return None
        return wanted

    def get_secret_sync(self, key: str, operator_uri: str, **kwargs: Any) -> ISecret | None:
        if self._allowed([key], operator_uri) is None:
            return None
        return self.client.get_sync(key, **kwargs)

    async def get_secret(self, key: str, operator_uri: str, **kwargs: Any) -> ISecret | None:
        if self._allowed([key], operator_uri) is None:
            return None
        return await self.client.get(key, **kwargs)  # the client's async API, as in FiftyOne

    async def get_multiple(
        self, keys: Iterable[str], operator_uri: str, **kwargs: Any
    ) -> dict[str, UnencryptedSecret | None] | None:
        allowed = self._allowed(keys, operator_uri)
        if allowed is None:
            return None
        return {key: self.client.get_sync(key) for key in allowed}


def redact_data(data: Any, values: Iterable[str]) -> Any:
    """A copy of JSON-like ``data`` with every secret value in its strings replaced."""
    values = [v for v in values if v and len(v) >= 3]
    if not values:
        return data

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return redact(item, values)
        if isinstance(item, Mapping):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        return item

    return walk(data)


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value replaced by ``***``."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        if len(value) >= 3:
            text = text.replace(value, REDACTED)
    return text
