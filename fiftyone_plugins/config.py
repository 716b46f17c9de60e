"""Where things live and how the library behaves: the config and the App config.

Every field of :class:`Config` is read, in order of precedence, from the environment variable
``FIFTYONE_<FIELD>`` (upper case), from the JSON config file (``~/.fiftyone/config.json``,
located by ``FIFTYONE_CONFIG_PATH``), or its default. Unknown keys in the file are ignored,
since the same file may also configure FiftyOne itself.

The App config (``~/.fiftyone/app_config.json``, located by ``FIFTYONE_APP_CONFIG_PATH``) holds
system-wide plugin settings under its ``plugins`` key; :func:`update_app_config` changes it
atomically under a lock so concurrent enable/disable calls never lose each other's writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .errors import ConfigError

__all__ = [
    "DEFAULT_APP_CONFIG_PATH",
    "env_reader",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_PLUGINS_DIR",
    "PLUGIN_API_VERSION",
    "Config",
    "expand_path",
    "get_plugin_settings",
    "get_plugins_dir",
    "load_app_config",
    "load_config",
    "locate_app_config",
    "locate_config",
    "read_json_file",
    "update_app_config",
    "write_json_atomic",
]

#: The FiftyOne plugin API version this library implements; manifests' ``fiftyone.version``
#: specifiers are checked against it (overridable with the ``plugin_api_version`` field).
PLUGIN_API_VERSION = "1.22.1"

DEFAULT_CONFIG_PATH = "~/.fiftyone/config.json"
DEFAULT_APP_CONFIG_PATH = "~/.fiftyone/app_config.json"
DEFAULT_PLUGINS_DIR = "~/fiftyone/__plugins__"


def expand_path(path: str) -> str:
    """Expands ``~`` and environment variables and makes ``path`` absolute."""
    return os.path.abspath(os.path.expanduser(os.path.expandvars(path)))


_expanded: dict[tuple[str, str, str], str] = {}


def _locate(env_name: str, default: str) -> str:
    """Expands a location once per distinct (value, HOME, cwd): it is read on hot paths."""
    raw = os.environ.get(env_name) or default
    if "$" in raw:
        return expand_path(raw)
    key = (raw, os.environ.get("HOME", ""), "" if raw.startswith("/") else os.getcwd())
    path = _expanded.get(key)
    if path is None:
        path = _expanded[key] = expand_path(raw)
    return path


def locate_config() -> str:
    """Returns the path of the JSON config file (which need not exist)."""
    return _locate("FIFTYONE_CONFIG_PATH", DEFAULT_CONFIG_PATH)


def locate_app_config() -> str:
    """Returns the path of the JSON App config file (which need not exist)."""
    return _locate("FIFTYONE_APP_CONFIG_PATH", DEFAULT_APP_CONFIG_PATH)


def _default_store() -> str:
    folder = os.path.dirname(locate_config())
    return "sqlite:///" + os.path.join(folder, "delegated_operations.sqlite")


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _parse_optional_float(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    number = float(value)
    return number if number > 0 else None


class Config:
    """The library's settings; see the module docstring for where each value comes from.

    A plain immutable class (not a dataclass) so that reading the config does not import
    :mod:`inspect`, which would slow down every CLI start.
    """

    #: folder that holds downloaded and created plugins
    plugins_dir: str = DEFAULT_PLUGINS_DIR
    #: store of delegated operations: ``sqlite:///path``, ``mongodb://...``, ``memory://``
    #: or a dotted path to a store class; defaults to a SQLite file beside the config file
    delegated_operation_store: str = ""
    #: seconds a worker's claim on a running operation lasts without a heartbeat
    delegated_operation_lease_seconds: float = 60.0
    #: where delegated operations run: ``local`` (the worker's process), ``ray`` or ``dask``
    delegated_backend: str = "local"
    #: the Ray or Dask cluster to submit to; empty: a local cluster for the worker's life
    delegated_backend_address: str = ""
    #: what operations of each delegation target ask of the engine, e.g.
    #: ``{"gpu": {"gpus": 1, "memory": 8e9}}`` (an operation's own ``resources`` win)
    delegated_target_resources: dict[str, Any] = {}
    #: seconds an immediate execution may take (``None``: no limit)
    operator_timeout: float | None = None
    #: the FiftyOne plugin API version that ``fiftyone.version`` specifiers are checked against
    plugin_api_version: str = PLUGIN_API_VERSION
    #: accepted for compatibility with FiftyOne's orchestrator flag; changes no behaviour here
    allow_legacy_orchestrators: bool = False
    #: GitHub web and API base URLs (GitHub Enterprise installs change both)
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    #: limits applied while extracting downloaded archives
    download_max_bytes: int = 2 * 1024**3
    download_max_files: int = 50_000
    #: seconds to wait for a download server before giving up (per attempt)
    download_timeout: float = 30.0
    #: extra attempts after a transient download failure, and the first backoff in seconds
    download_retries: int = 2
    download_backoff: float = 0.5
    #: dotted path to a host dataset resolver (``module:attr`` or ``module.attr``)
    dataset_resolver: str = ""
    #: folder of the files that let listings skip unchanged work (parsed manifests, what
    #: each plugin registered); default ``cache/`` beside the config file; ``off``: none
    plugins_cache_dir: str = ""

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        for name in _FIELDS:
            object.__setattr__(self, name, values.get(name, getattr(type(self), name)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Config is immutable; use replace()")

    def replace(self, **changes: Any) -> Config:
        """Returns a copy with some fields changed."""
        return Config(**{**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"Config({fields})"


_FIELDS = tuple(name for name in Config.__annotations__)


def _parse_json_object(value: Any) -> dict[str, Any]:
    data = json.loads(value) if isinstance(value, str) else value
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "delegated_target_resources": _parse_json_object,
    "delegated_operation_lease_seconds": float,
    "operator_timeout": _parse_optional_float,
    "allow_legacy_orchestrators": _parse_bool,
    "download_max_bytes": int,
    "download_max_files": int,
    "download_timeout": float,
    "download_retries": int,
    "download_backoff": float,
}
_ENV_NAMES = tuple("FIFTYONE_" + name.upper() for name in _FIELDS)

_config_cache: tuple[tuple[Any, ...], Config] | None = None

#: values set in this process (``fo.config.plugins_dir = ...``): they win over the
#: environment and the file, as assignments to FiftyOne's ``fo.config`` do
_overrides: dict[str, Any] = {}
_overrides_version = 0


def set_override(name: str, value: Any) -> None:
    """Sets config field ``name`` for this process (``None`` removes the override)."""
    global _overrides_version
    if name not in _FIELDS:
        raise AttributeError(f"unknown config field {name!r}")
    if value is None:
        _overrides.pop(name, None)
    else:
        _overrides[name] = value
    _overrides_version += 1


def overrides() -> dict[str, Any]:
    """The fields set in this process with :func:`set_override`."""
    return dict(_overrides)


def _file_signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def read_json_file(path: str) -> dict[str, Any]:
    """Reads a JSON object from ``path``; a missing file is ``{}``, a corrupt one an error."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"Cannot read {path}: {e.strerror}", path=path) from e
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON: {e}", path=path) from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object", path=path)
    return data


def env_reader(names: Sequence[str]) -> Callable[[], tuple[Any, ...]]:
    """A function giving the current values of the environment variables ``names`` (None
    for unset ones), for the hot paths that compare them on every call (the config, the
    registry's snapshot). ``os.environ.get()`` re-encodes its key each time (~0.5 us); this
    reads CPython's underlying dict with keys encoded once."""
    data: Any = getattr(os.environ, "_data", None)
    if isinstance(data, dict):
        encoded = tuple(os.environ.encodekey(name) for name in names)  # type: ignore[attr-defined]
        get = data.get
        return lambda: tuple([get(k) for k in encoded])
    names = tuple(names)  # pragma: no cover - other platforms
    return lambda: tuple([os.environ.get(n) for n in names])


_env_values = env_reader(_ENV_NAMES)


def load_config() -> Config:
    """Returns the current config, re-read only when the environment or the file changed."""
    global _config_cache
    path = locate_config()
    key = (path, _file_signature(path), _env_values(), _overrides_version)
    cached = _config_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    config = _build_config(path)
    _config_cache = (key, config)
    return config


def _build_config(path: str) -> Config:
    from_file = read_json_file(path)
    values: dict[str, Any] = {}
    for name, env_name in zip(_FIELDS, _ENV_NAMES, strict=True):
        source = env_name
        raw = os.environ.get(env_name)
        if name in _overrides:
            raw, source = _overrides[name], f"the config set in this process ({name})"
        elif raw is None and name in from_file:
            raw, source = from_file[name], f"{path} ({name})"
        if raw is None:
            continue
        parse = _PARSERS.get(name, str)
        try:
            values[name] = parse(raw)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"Invalid value {raw!r} for {source}: {e}", path=path) from e
    config = Config(**values)
    return config.replace(
        plugins_dir=expand_path(config.plugins_dir),
        delegated_operation_store=config.delegated_operation_store or _default_store(),
        github_url=config.github_url.rstrip("/"),
        github_api_url=config.github_api_url.rstrip("/"),
    )


def get_plugins_dir() -> str:
    """Returns the absolute path of the plugins directory."""
    return load_config().plugins_dir


# -- App config ---------------------------------------------------------------------------------

_app_cache: tuple[tuple[Any, ...], dict[str, Any]] | None = None


def load_app_config() -> dict[str, Any]:
    """Returns the App config as a dict (``{}`` when the file does not exist).

    The returned dict is shared with a cache: treat it as read-only.
    """
    global _app_cache
    path = locate_app_config()
    key = (path, _file_signature(path))
    cached = _app_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    data = read_json_file(path)
    plugins = data.get("plugins", {})
    if not isinstance(plugins, dict):
        raise ConfigError(f"{path}: the 'plugins' key must hold a JSON object", path=path)
    _app_cache = (key, data)
    return data


def get_plugin_settings(name: str) -> dict[str, Any]:
    """Returns the system-wide settings of plugin ``name`` (a copy; ``{}`` when none)."""
    settings = load_app_config().get("plugins", {}).get(name, {})
    return dict(settings) if isinstance(settings, dict) else {}


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    lock_path = path + ".lock"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a") as lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def write_json_atomic(path: str, data: Any) -> None:
    """Writes ``data`` as JSON to ``path`` through a temporary file and a rename."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=4)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, os.stat(path).st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def update_app_config(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Applies ``change`` to a fresh copy of the App config and writes it back atomically.

    The read-modify-write happens under an exclusive file lock, so two processes changing
    plugin settings at once both keep their change. Every other key of the file is kept.
    """
    global _app_cache
    path = locate_app_config()
    with _locked(path):
        data = read_json_file(path)
        if not isinstance(data.get("plugins", {}), dict):
            raise ConfigError(f"{path}: the 'plugins' key must hold a JSON object", path=path)
        change(data)
        write_json_atomic(path, data)
    _app_cache = None
    return data
