"""Plugin definitions: one validated data model per ``fiftyone.yml`` manifest.

:meth:`PluginDefinition.from_dir` is the one constructor from disk; it raises
:class:`~fiftyone_plugins.errors.PluginDefinitionError` naming the file and the fault, so
discovery can report a broken plugin without hiding the others.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import PluginDefinitionError

if TYPE_CHECKING:
    from .plugin_cache import ManifestCache

__all__ = [
    "DEFAULT_JS_BUNDLE",
    "DEFAULT_PY_ENTRY",
    "MANIFEST_NAMES",
    "PluginDefinition",
    "find_manifest",
    "parse_version_spec",
    "validate_plugin_name",
]

logger = logging.getLogger(__name__)

#: manifest file names, in order of preference
MANIFEST_NAMES = ("fiftyone.yml", "fiftyone.yaml")
DEFAULT_PY_ENTRY = "__init__.py"
DEFAULT_JS_BUNDLE = "dist/index.umd.js"

_LIST_FIELDS = ("operators", "panels", "secrets", "tags")
_NAME_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-~+ ]*$")

_PLAIN_VERSION = re.compile(r"^\d+(\.\d+){0,3}$")
_PLAIN_SPEC = re.compile(
    r"^(\*|(>=|<=|==|~=|!=|<|>)\s*\d+(\.\d+){0,3}(\s*,\s*(>=|<=|==|!=|<|>)\s*\d+(\.\d+){0,3})?)$"
)

_yaml_loader: Any = None


def _load_yaml(text: str) -> Any:
    """Parses YAML safely, with the C loader when libyaml is available."""
    global _yaml_loader
    import yaml

    if _yaml_loader is None:
        _yaml_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=_yaml_loader)  # noqa: S506 - a safe loader


def find_manifest(directory: str) -> str | None:
    """Returns the path of the manifest in ``directory``, preferring ``fiftyone.yml``."""
    for name in MANIFEST_NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def validate_plugin_name(name: Any) -> str | None:
    """Returns why ``name`` is not a valid plugin name, or ``None`` when it is.

    Valid names are ``@org/name`` or a plain ``name``: no other path separators, no
    ``..``, no leading dot, so a name can safely become a folder name.
    """
    if not isinstance(name, str) or not name.strip():
        return "'name' must be a non-empty string"
    if name != name.strip():
        return f"plugin name {name!r} has leading or trailing whitespace"
    if "\\" in name or "\x00" in name or ".." in name:
        return f"plugin name {name!r} must not contain '\\', NUL or '..'"
    if name.startswith("@"):
        parts = name[1:].split("/")
        if len(parts) != 2:
            return f"plugin name {name!r} must look like '@org/name'"
    else:
        parts = [name]
        if "/" in name:
            return f"plugin name {name!r} may only contain '/' after an '@org' prefix"
    for part in parts:
        if not _NAME_SEGMENT.match(part):
            return f"plugin name {name!r} has an invalid segment {part!r}"
    return None


def _short_repr(value: Any) -> str:
    """A bounded ``repr`` for messages: YAML aliases can nest a value exponentially large."""
    import reprlib

    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxdict, short.maxstring = 3, 6, 6, 80
    return short.repr(value)


def _check_version(value: Any, path: str, warnings: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise PluginDefinitionError(path, f"'version' must be a string, got {_short_repr(value)}")
    text = str(value)
    if _PLAIN_VERSION.match(text):  # the common case, without importing packaging
        return text
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        warnings.append(f"version {text!r} is not a PEP 440 version")
    return text


def _check_compatibility(manifest: Mapping[str, Any], path: str, warnings: list[str]) -> str:
    section = manifest.get("fiftyone")
    if section is None:
        return ""
    if not isinstance(section, Mapping):
        raise PluginDefinitionError(path, "'fiftyone' must be a mapping like {version: '>=0.22'}")
    spec = section.get("version")
    if spec is None:
        return ""
    if not isinstance(spec, (str, int, float)) or isinstance(spec, bool):
        raise PluginDefinitionError(
            path, f"'fiftyone.version' must be a string, got {_short_repr(spec)}"
        )
    text = str(spec).strip()
    if _PLAIN_SPEC.match(text):  # the common case, without importing packaging
        return text
    if parse_version_spec(text) is None:
        warnings.append(f"fiftyone.version {text!r} is not a valid version specifier")
    return text


_SPEC_CLAUSE = re.compile(r"(===|~=|==|!=|<=|>=|<|>)\s*([^\s,<>=!~]+)")


def parse_version_spec(text: str) -> Any:
    """Parses a ``fiftyone.version`` requirement into a ``SpecifierSet``.

    Accepts the forms manifests use in practice: ``>=0.22``, ``>=0.21,<1``,
    ``>=0.21 <1``, ``>= 0.22`` and npm's ``~0.21.0``/``^1.2``; ``""`` and ``*`` mean any
    version. Returns ``None``
    when the text is not a specifier.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = text.strip()
    if text in ("", "*"):
        return SpecifierSet("")
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        pass
    npm = _npm_range(text)
    if npm is not None:
        return SpecifierSet(npm)
    clauses = _SPEC_CLAUSE.findall(text)
    leftover = _SPEC_CLAUSE.sub("", text).replace(",", "").strip()
    if not clauses or leftover:
        return None
    try:
        return SpecifierSet(",".join(op + version for op, version in clauses))
    except InvalidSpecifier:
        return None


_NPM_RANGE = re.compile(r"^([~^])\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


def _npm_range(text: str) -> str | None:
    """npm-style ``~0.21.0`` / ``^1.2`` (seen in real manifests) as a PEP 440 specifier:
    ``~`` allows later patch releases, ``^`` later releases keeping the first non-zero part."""
    match = _NPM_RANGE.match(text)
    if match is None:
        return None
    kind, major_s, minor_s, patch_s = match.groups()
    major, minor, patch = int(major_s), int(minor_s or 0), int(patch_s or 0)
    lower = ".".join(p for p in (major_s, minor_s, patch_s) if p is not None)
    if kind == "~":
        upper = f"{major}.{minor + 1}" if minor_s is not None else f"{major + 1}"
    elif major > 0 or minor_s is None:
        upper = f"{major + 1}"
    elif minor > 0 or patch_s is None:
        upper = f"0.{minor + 1}"
    else:
        upper = f"0.0.{patch + 1}"
    return f">={lower},<{upper}"


def _check_string_list(manifest: Mapping[str, Any], key: str, path: str) -> list[str]:
    value = manifest.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PluginDefinitionError(
            path, f"'{key}' must be a list of non-empty strings, got {_short_repr(value)}"
        )
    return list(value)


def _check_optional_str(manifest: Mapping[str, Any], key: str, path: str) -> str | None:
    value = manifest.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PluginDefinitionError(path, f"'{key}' must be a string, got {_short_repr(value)}")
    return str(value)


def _inside(directory: str, relpath: str) -> bool:
    """Whether ``relpath`` names something inside ``directory`` (checked lexically)."""
    if os.path.isabs(relpath) or "\x00" in relpath:
        return False
    normalized = os.path.normpath(relpath)
    return normalized != ".." and not normalized.startswith(".." + os.sep)


class PluginDefinition:
    """A plugin's validated manifest plus where it lives.

    Every field that ``plugins info`` shows is an attribute; the manifest's unknown keys are
    kept in :attr:`manifest` and otherwise ignored.
    """

    def __init__(
        self,
        directory: str,
        manifest: Mapping[str, Any],
        *,
        manifest_path: str | None = None,
        plugins_dir: str | None = None,
        builtin: bool = False,
    ) -> None:
        path = manifest_path or os.path.join(directory, MANIFEST_NAMES[0])
        if not isinstance(manifest, Mapping):
            raise PluginDefinitionError(path, "the manifest must be a YAML mapping")
        name = manifest.get("name")
        reason = validate_plugin_name(name)
        if reason:
            raise PluginDefinitionError(path, reason)
        self.warnings: list[str] = []
        self.directory = directory
        self.manifest_path = path
        self.manifest = dict(manifest)
        self.builtin = builtin
        self.plugins_dir = plugins_dir
        self.name: str = str(name)
        self.label: str | None = _check_optional_str(manifest, "label", path)
        self.author: str | None = _check_optional_str(manifest, "author", path)
        self.url: str | None = _check_optional_str(manifest, "url", path)
        self.license: str | None = _check_optional_str(manifest, "license", path)
        self.description: str | None = _check_optional_str(manifest, "description", path)
        self.version: str | None = _check_version(manifest.get("version"), path, self.warnings)
        self.fiftyone_compatibility: str = _check_compatibility(manifest, path, self.warnings)
        self.operators: list[str] = _check_string_list(manifest, "operators", path)
        self.panels: list[str] = _check_string_list(manifest, "panels", path)
        self.secrets: list[str] = _check_string_list(manifest, "secrets", path)
        self.tags: list[str] = _check_string_list(manifest, "tags", path)
        py_entry = _check_optional_str(manifest, "py_entry", path) or DEFAULT_PY_ENTRY
        if not _inside(directory, py_entry):
            raise PluginDefinitionError(
                path, f"'py_entry' {py_entry!r} must be a path inside the plugin folder"
            )
        self.py_entry: str = py_entry
        js_bundle = _check_optional_str(manifest, "js_bundle", path)
        if js_bundle is not None and not _inside(directory, js_bundle):
            raise PluginDefinitionError(
                path, f"'js_bundle' {js_bundle!r} must be a path inside the plugin folder"
            )
        self._js_bundle = js_bundle
        #: folders of other plugins with the same name that this one shadows
        self.shadow_paths: list[str] = []
        for warning in self.warnings:  # surfaced by `plugins info` and `plugins list`
            logger.debug("%s: %s", path, warning)

    @classmethod
    def from_dir(
        cls, directory: str, *, plugins_dir: str | None = None, builtin: bool = False
    ) -> PluginDefinition:
        """Reads and validates the manifest in ``directory``."""
        path = find_manifest(directory)
        if path is None:
            raise PluginDefinitionError(
                os.path.join(directory, MANIFEST_NAMES[0]), "no fiftyone.yml or fiftyone.yaml"
            )
        return cls.from_file(path, plugins_dir=plugins_dir, builtin=builtin)

    @classmethod
    def from_file(
        cls,
        path: str,
        *,
        plugins_dir: str | None = None,
        builtin: bool = False,
        cache: ManifestCache | None = None,
    ) -> PluginDefinition:
        """Reads and validates the manifest at ``path``; with a ``cache``, a manifest
        unchanged since it was last parsed is not parsed again (validation always runs)."""
        st = None
        if cache is not None:
            try:
                st = os.stat(path)
            except OSError:
                st = None
            data = cache.get(path, st) if st is not None else None
            if data is not None:
                return cls(
                    os.path.dirname(path),
                    data,
                    manifest_path=path,
                    plugins_dir=plugins_dir,
                    builtin=builtin,
                )
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as e:
            raise PluginDefinitionError(path, "the manifest is not UTF-8 text") from e
        except OSError as e:
            raise PluginDefinitionError(path, f"cannot read the manifest: {e.strerror}") from e
        import yaml

        try:
            data = _load_yaml(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise PluginDefinitionError(path, f"malformed YAML{where}: {problem}") from e
        if data is None:
            raise PluginDefinitionError(path, "the manifest is empty")
        definition = cls(
            os.path.dirname(path),
            data,
            manifest_path=path,
            plugins_dir=plugins_dir,
            builtin=builtin,
        )
        if cache is not None and st is not None:
            cache.put(path, st, data)  # only once it validated
        return definition

    # -- derived fields: computed when asked, so listings stay cheap -----------------------

    @property
    def js_bundle(self) -> str:
        """The JS bundle path: the manifest's, else package.json's ``fiftyone.script``."""
        if self._js_bundle:
            return self._js_bundle
        try:
            with open(self.package_json_path, encoding="utf-8") as f:
                script = json.load(f).get("fiftyone", {}).get("script")
        except (OSError, ValueError, AttributeError):
            script = None
        if isinstance(script, str) and script and _inside(self.directory, script):
            return script
        return DEFAULT_JS_BUNDLE

    @property
    def js_bundle_path(self) -> str:
        return os.path.join(self.directory, self.js_bundle)

    @property
    def py_entry_path(self) -> str:
        return os.path.join(self.directory, self.py_entry)

    @property
    def js_bundle_exists(self) -> bool:
        return os.path.isfile(self.js_bundle_path)

    @property
    def has_py(self) -> bool:
        return os.path.isfile(self.py_entry_path)

    @property
    def has_js(self) -> bool:
        return self.js_bundle_exists

    @property
    def server_path(self) -> str:
        """The URL path under which a host app would serve this plugin's files."""
        if self.builtin or not self.plugins_dir:
            rel = os.path.basename(self.directory)
        else:
            rel = os.path.relpath(self.directory, self.plugins_dir)
        return "/plugins/" + rel.replace(os.sep, "/")

    @property
    def js_bundle_server_path(self) -> str | None:
        if not self.js_bundle_exists:
            return None
        return f"{self.server_path}/{self.js_bundle}"

    @property
    def has_operators(self) -> bool:
        return bool(self.operators or self.panels)

    @property
    def fiftyone_requirement(self) -> str | None:
        """A pip requirement for the FiftyOne versions the plugin supports (``None``: any),
        as FiftyOne's plugins show it, e.g. ``fiftyone>=0.22``."""
        spec = self.fiftyone_compatibility
        return None if spec in ("", "*") else f"fiftyone{spec}"

    @property
    def package_json_path(self) -> str:
        return os.path.join(self.directory, "package.json")

    @property
    def has_package_json(self) -> bool:
        return os.path.isfile(self.package_json_path)

    def can_register_operator(self, name: str) -> bool:
        """Whether the manifest declares an operator or panel called ``name``."""
        return name in self.operators or name in self.panels

    def to_dict(self) -> dict[str, Any]:
        """The fields ``plugins info`` shows, as plain data."""
        return {
            "name": self.name,
            "author": self.author,
            "version": self.version,
            "url": self.url,
            "license": self.license,
            "description": self.description,
            "fiftyone_compatibility": self.fiftyone_compatibility,
            "operators": list(self.operators),
            "panels": list(self.panels),
            "js_bundle": self.js_bundle,
            "py_entry": self.py_entry,
            "js_bundle_exists": self.js_bundle_exists,
            "js_bundle_server_path": self.js_bundle_server_path,
            "has_py": self.has_py,
            "has_js": self.has_js,
            "server_path": self.server_path,
            "secrets": list(self.secrets),
            "tags": list(self.tags),
            "label": self.label,
            "builtin": self.builtin,
            "directory": self.directory,
            "shadow_paths": list(self.shadow_paths),
        }

    def __repr__(self) -> str:
        return f"PluginDefinition(name={self.name!r}, directory={self.directory!r})"
