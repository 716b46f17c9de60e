"""The ``.pth`` hook: ``import fiftyone.operators`` in every process where the library is
installed, regular or editable, decided at the first ``import fiftyone``, and switchable off.

Each case installs this checkout into a fresh virtual environment (once per install kind) and
runs plain ``python -c`` there, as a plugin author's shell, pytest or notebook kernel would.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _pip(python: pathlib.Path, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module", params=["editable", "regular"])
def venv_python(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The interpreter of a fresh venv with this checkout installed (``-e`` or not)."""
    root = tmp_path_factory.mktemp(f"hook-{request.param}")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=120)
    python = root / "venv" / "bin" / "python"
    if request.param == "editable":
        _pip(python, "-e", str(REPO))
    else:  # from a copy, so no build folder is left in the checkout
        src = root / "src"
        _copy_tree(REPO, src)
        _pip(python, str(src))
    return str(python)


def _copy_tree(repo: pathlib.Path, dest: pathlib.Path) -> None:
    """The checkout's files (tracked or new, not ignored) copied to ``dest``; without git, the
    package and its packaging files."""
    try:
        files = subprocess.run(
            ["git", "-C", str(repo), "ls-files", "-co", "--exclude-standard", "-z"],
            check=True,
            capture_output=True,
        ).stdout.split(b"\0")
    except (OSError, subprocess.CalledProcessError):
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(repo / "fiftyone_plugins", dest / "fiftyone_plugins", ignore=skip)
        for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
            shutil.copy2(repo / name, dest / name)
        shutil.copy2(repo / "_fiftyone_plugins_hook.py", dest / "_fiftyone_plugins_hook.py")
        return
    for name in filter(None, files):
        rel = name.decode()
        source = repo / rel
        if not source.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())


def run(python: str, code: str, cwd: pathlib.Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYONE_PLUGINS_COMPAT")}
    environ.pop("PYTHONPATH", None)
    environ.update(env)
    return subprocess.run(
        [python, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=60,
    )


def test_import_fiftyone_operators_works_in_a_plain_process(venv_python, tmp_path):
    done = run(
        venv_python,
        """
        import sys
        assert "fiftyone_plugins" not in sys.modules   # nothing imported at start-up
        import fiftyone.operators as foo
        from fiftyone.operators import types
        import fiftyone.core.storage as fos

        class Op(foo.Operator):
            @property
            def config(self):
                return foo.OperatorConfig(name="op")

        print(foo.Operator.__module__, types.Object.__module__, fos.__name__)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "fiftyone_plugins.operators.operator",
        "fiftyone_plugins.operators.types.object",
        "fiftyone_plugins.compat.storage",
    ]


def test_it_can_be_turned_off(venv_python, tmp_path):
    for value in ("0", "false", "off"):
        done = run(venv_python, "import fiftyone", tmp_path, FIFTYONE_PLUGINS_COMPAT=value)
        assert done.returncode == 1 and "No module named 'fiftyone'" in done.stderr


def test_the_decision_waits_for_the_first_import_of_fiftyone(venv_python, tmp_path):
    # a real-looking FiftyOne put on the path after start-up (as a notebook might) wins
    site = tmp_path / "site"
    (site / "fiftyone").mkdir(parents=True)
    (site / "fiftyone" / "__init__.py").write_text("REAL = True\n")
    (site / "fiftyone-1.22.1.dist-info").mkdir()
    (site / "fiftyone-1.22.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fiftyone\nVersion: 1.22.1\n"
    )
    done = run(
        venv_python,
        f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import fiftyone
        print(getattr(fiftyone, "REAL", False))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_a_bare_fiftyone_db_folder_does_not_count(venv_python, tmp_path):
    site = tmp_path / "site"
    (site / "fiftyone" / "db").mkdir(parents=True)
    (site / "fiftyone" / "db" / "__init__.py").write_text("WHERE = 'db'\n")
    (site / "fiftyone_db-0.4.5.dist-info").mkdir()
    done = run(
        venv_python,
        """
        import fiftyone.operators as foo
        import fiftyone.db
        print(foo.Operator.__module__, fiftyone.db.WHERE)
        """,
        tmp_path,
        PYTHONPATH=str(site),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fiftyone_plugins.operators.operator", "db"]
