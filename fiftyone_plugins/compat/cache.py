"""``fiftyone.operators.cache.execution_cache``: memoize operator helpers per context.

The decorated function takes an execution context as its first argument (or second, for a
method); results are cached in memory, per process, keyed by the function, the other
arguments (as JSON) and the scopes asked for: the dataset (``link_to_dataset``, default),
the operator (``operator_scoped``), the user (``user_scoped``). ``ttl`` (seconds) and
``max_size`` (entries, default 1024, least recently used evicted) bound the cache. Every
``residency`` FiftyOne accepts behaves as ``"ephemeral"`` here.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_RESIDENCIES = ("transient", "ephemeral", "hybrid")
_ATTRIBUTES = ("uncached", "clear_cache", "set_cache", "clear_all_caches")


def _is_ctx(value: Any) -> bool:
    return hasattr(value, "request_params") and hasattr(value, "params")


def execution_cache(
    _func: Callable[..., Any] | None = None,
    *,
    residency: str = "hybrid",
    max_size: int | None = None,
    ttl: float | None = None,
    link_to_dataset: bool = True,
    key_fn: Callable[..., Any] | None = None,
    store_name: str | None = None,
    version: Any = None,
    operator_scoped: bool = False,
    user_scoped: bool = False,
    prompt_scoped: bool = False,
    jwt_scoped: bool = False,
    collection_name: str | None = None,
    serialize: Callable[[Any], Any] | None = None,
    deserialize: Callable[[Any], Any] | None = None,
) -> Any:
    """Caches a function of ``(ctx, *args)``; usable bare or with options."""
    if residency not in _RESIDENCIES:
        raise ValueError(f"Invalid residency {residency!r}; expected one of {_RESIDENCIES}")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        if any(hasattr(func, a) for a in _ATTRIBUTES):
            raise ValueError(f"{func.__name__} is already decorated with @execution_cache")
        entries: OrderedDict[str, tuple[float | None, Any]] = OrderedDict()
        lock = threading.Lock()
        limit = max_size or 1024
        name = store_name or f"{func.__module__}.{func.__qualname__}"

        def split(args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...], tuple[Any, ...]]:
            for i, value in enumerate(args[:2]):
                if _is_ctx(value):
                    return value, args[:i], args[i + 1 :]
            raise ValueError(f"{func.__name__}() needs an execution context as first argument")

        def key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            ctx, _, rest = split(args)
            parts: list[Any] = [name, version]
            parts.append(list(key_fn(ctx, *rest, **kwargs)) if key_fn else [rest, kwargs])
            if link_to_dataset:
                parts.append(
                    ctx.request_params.get("dataset_id") or ctx.request_params.get("dataset_name")
                )
            if operator_scoped:
                parts.append(getattr(ctx, "operator_uri", None))
            if user_scoped or jwt_scoped:
                parts.append(getattr(ctx, "user_id", None))
            if prompt_scoped:
                parts.append(ctx.request_params.get("prompt_id"))
            return json.dumps(parts, sort_keys=True, default=repr)

        def store(k: str, value: Any) -> None:
            expires = time.monotonic() + ttl if ttl else None
            with lock:
                entries[k] = (expires, serialize(value) if serialize else value)
                entries.move_to_end(k)
                while len(entries) > limit:
                    entries.popitem(last=False)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            k = key(args, kwargs)
            with lock:
                hit = entries.get(k)
                if hit is not None and (hit[0] is None or hit[0] > time.monotonic()):
                    entries.move_to_end(k)
                    return deserialize(hit[1]) if deserialize else hit[1]
            value = func(*args, **kwargs)
            store(k, value)
            return value

        def uncached(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        def clear_cache(*args: Any, **kwargs: Any) -> None:
            with lock:
                entries.pop(key(args, kwargs), None)

        def set_cache(*args: Any, **kwargs: Any) -> None:
            store(key(args[:-1], kwargs), args[-1])

        def clear_all_caches(dataset_id: str | None = None) -> None:
            with lock:
                entries.clear()

        wrapper.uncached = uncached  # type: ignore[attr-defined]
        wrapper.clear_cache = clear_cache  # type: ignore[attr-defined]
        wrapper.set_cache = set_cache  # type: ignore[attr-defined]
        wrapper.clear_all_caches = clear_all_caches  # type: ignore[attr-defined]
        wrapper.store_name = store_name  # type: ignore[attr-defined]
        wrapper.link_to_dataset = link_to_dataset  # type: ignore[attr-defined]
        wrapper.exec_cache_version = version  # type: ignore[attr-defined]
        return wrapper

    return decorator if _func is None else decorator(_func)


__all__ = ["execution_cache"]
