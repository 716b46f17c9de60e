"""A plugin's Python requirements (``requirements.txt``) and FiftyOne compatibility.

``error_level`` follows the reference: 0 raises, 1 logs a warning, 2 ignores.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys

from . import config as _config
from .definitions import parse_version_spec
from .errors import RequirementsError
from .management import get_plugin

__all__ = [
    "REQUIREMENTS_FILE",
    "RequirementCheck",
    "check_requirement",
    "ensure_plugin_compatibility",
    "ensure_plugin_requirements",
    "install_plugin_requirements",
    "load_plugin_requirements",
]

logger = logging.getLogger(__name__)

REQUIREMENTS_FILE = "requirements.txt"


@dataclasses.dataclass(frozen=True)
class RequirementCheck:
    """The outcome of checking one requirement line against the current environment."""

    requirement: str
    installed: str | None
    satisfied: bool
    reason: str = ""

    def __str__(self) -> str:
        if self.satisfied:
            found = f" (found {self.installed})" if self.installed else ""
            return f"{self.requirement}: satisfied{found}"
        return f"{self.requirement}: NOT satisfied ({self.reason})"


def _handle(message: str, error_level: int | None, name: str) -> None:
    level = 0 if error_level is None else error_level
    if level <= 0:
        raise RequirementsError(message, name=name)
    if level == 1:
        logger.warning(message)


def _requirements_path(name: str) -> str:
    return os.path.join(get_plugin(name).directory, REQUIREMENTS_FILE)


def load_plugin_requirements(name: str) -> list[str]:
    """Returns the requirement lines of plugin ``name`` (``[]`` when it has none).

    Comments and blank lines are dropped; pip option lines (``-r``, ``--index-url``) kept.
    """
    path = _requirements_path(name)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise RequirementsError(f"Cannot read {path}: {e.strerror}", name=name) from e
    requirements = []
    for line in lines:
        text = line.split(" #", 1)[0].strip()
        if text and not text.startswith("#"):
            requirements.append(text)
    return requirements


def install_plugin_requirements(name: str, error_level: int | None = None) -> bool:
    """Installs plugin ``name``'s requirements with this interpreter's pip, in one install.

    Returns whether pip succeeded (``True`` when there is nothing to install).
    """
    requirements = load_plugin_requirements(name)
    if not requirements:
        logger.info("Plugin %r has no requirements to install", name)
        return True
    path = _requirements_path(name)
    command = [sys.executable, "-m", "pip", "install", "-r", path]
    logger.info("Installing requirements of %r: %s", name, " ".join(requirements))
    result = subprocess.run(command, cwd=os.path.dirname(path), check=False)
    if result.returncode != 0:
        _handle(
            f"pip failed (exit {result.returncode}) installing the requirements of {name!r}",
            error_level,
            name,
        )
        return False
    from .discovery import invalidate

    invalidate()  # the registry imports the plugin again if its import had failed
    return True


def check_requirement(line: str) -> RequirementCheck:
    """Checks one requirement line against the installed distributions."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    if line.startswith("-"):
        return RequirementCheck(line, None, True, "pip option, not checked")
    try:
        requirement = Requirement(line)
    except InvalidRequirement as e:
        return RequirementCheck(line, None, False, f"cannot parse: {e}")
    if requirement.marker is not None and not requirement.marker.evaluate():
        return RequirementCheck(line, None, True, "not needed on this platform")
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return RequirementCheck(line, None, False, "not installed")
    if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
        return RequirementCheck(line, installed, False, f"installed {installed} does not match")
    return RequirementCheck(line, installed, True)


def ensure_plugin_requirements(
    name: str, error_level: int | None = None, log_success: bool = False
) -> list[RequirementCheck]:
    """Checks every requirement of plugin ``name`` and returns one result per line.

    When any is unsatisfied, ``error_level`` decides: raise (0), warn (1) or ignore (2).
    """
    checks = [check_requirement(line) for line in load_plugin_requirements(name)]
    failed = [c for c in checks if not c.satisfied]
    if failed:
        listing = "; ".join(str(c) for c in failed)
        _handle(
            f"Plugin {name!r} has unsatisfied requirements: {listing}. Install them with "
            f"`fiftyone-plugins plugins requirements {name} --install`",
            error_level,
            name,
        )
    elif log_success:
        logger.info("All requirements of plugin %r are satisfied", name)
    return checks


def ensure_plugin_compatibility(
    name: str, error_level: int | None = None, log_success: bool = False
) -> bool:
    """Checks plugin ``name``'s ``fiftyone.version`` against the implemented API version.

    An unparseable specifier only warns: it never makes a plugin unusable.
    """
    plugin = get_plugin(name)
    spec_text = plugin.fiftyone_compatibility
    api_version = _config.load_config().plugin_api_version
    spec = parse_version_spec(spec_text)
    if spec is None:
        logger.warning(
            "Plugin %r: cannot parse fiftyone.version %r; assuming it is compatible",
            name,
            spec_text,
        )
        return True
    if spec.contains(api_version, prereleases=True):
        if log_success:
            logger.info("Plugin %r is compatible with API version %s", name, api_version)
        return True
    _handle(
        f"Plugin {name!r} requires fiftyone {spec_text}, but this library implements "
        f"the plugin API of fiftyone {api_version}",
        error_level,
        name,
    )
    return False
