"""The README's first command runs ``examples/tour.sh``: it must keep working end to end."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_tour_runs_offline_on_the_embedded_defaults(tmp_path, env):
    script = shutil.which("fiftyone-plugins", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.fail("the fiftyone-plugins console script is not installed next to this Python")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    environ = dict(os.environ, FIFTYONE_PLUGINS_CLI=script, TMPDIR=str(scratch))
    # the tour sets its own locations; nothing of the test's environment may leak in
    for name in [n for n in environ if n.startswith("FIFTYONE_") and n != "FIFTYONE_PLUGINS_CLI"]:
        del environ[name]
    done = subprocess.run(
        ["bash", str(ROOT / "examples" / "tour.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert '"message": "Hello, tour!"' in done.stdout
    assert '"total": 15' in done.stdout
    assert "Would delete 1 operation" in done.stdout
    assert list(scratch.iterdir()) == []  # the tour cleaned up its temporary folder
    assert list(env.plugins_dir.iterdir()) == []  # and never touched the user's plugins dir
