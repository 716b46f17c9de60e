"""Runs ``tests/fiftyone/`` (real FiftyOne, real datasets) in the FiftyOne virtual environment.

The core environment never depends on ``fiftyone``, so the tests that need it run in a
separate virtual environment with ``fiftyone==1.22.1`` (``.ci/run`` creates it on a fresh
machine; see ``docs/fiftyone.md``). It is found at ``$FIFTYONE_PLUGINS_FO_VENV``, else at
``.venv-fiftyone/`` in the repository. This checkout is put first on that interpreter's path,
so the code under test is this one whatever the venv has installed.

A missing FiftyOne venv skips this test locally and fails it in CI (``CI`` set): a skipped
integration suite would hide a broken setup. Where FiftyOne is importable in the running
interpreter, ``tests/fiftyone/`` is collected directly and this test has nothing to do.
"""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
FIFTYONE_VERSION = "1.22.1"


# read at import, before the autouse ``env`` fixture clears every FIFTYONE_* variable
_VENV = pathlib.Path(os.environ.get("FIFTYONE_PLUGINS_FO_VENV") or REPO / ".venv-fiftyone")
_CI = bool(os.environ.get("CI"))


def fiftyone_venv() -> pathlib.Path:
    return _VENV


def _fiftyone_here() -> bool:
    try:
        importlib.metadata.distribution("fiftyone")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _unavailable(message: str) -> None:
    if _CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.slow
def test_the_fiftyone_suite_passes_in_the_fiftyone_venv() -> None:
    if _fiftyone_here():
        pytest.skip("fiftyone is installed here: tests/fiftyone/ is collected directly")
    python = fiftyone_venv() / "bin" / "python"
    if not os.access(python, os.X_OK):
        _unavailable(
            f"no FiftyOne virtual environment at {fiftyone_venv()} (set FIFTYONE_PLUGINS_FO_VENV,"
            " or run .ci/run, which creates it)"
        )
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('fiftyone'))"],
        capture_output=True,
        text=True,
    )
    if probe.stdout.strip() != FIFTYONE_VERSION:
        _unavailable(
            f"{python} has fiftyone {probe.stdout.strip() or '(none)'}, not {FIFTYONE_VERSION}: "
            f"{probe.stderr.strip()[-300:]}"
        )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fiftyone"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"tests/fiftyone in {fiftyone_venv()}: {summary}")
    assert done.returncode == 0, (
        f"tests/fiftyone failed in the FiftyOne venv ({summary}):\n"
        + done.stdout[-20000:]
        + done.stderr[-5000:]
    )
    assert " passed" in summary, summary
    if _CI:  # in CI every one of them must have run
        assert "skipped" not in summary, summary
