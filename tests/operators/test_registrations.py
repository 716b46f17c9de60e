"""Registrations remembered across processes: `operators list` imports no unchanged plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

MARKED_PLUGIN = """
import os

import fiftyone.operators as foo

with open(os.environ["FOP_TEST_IMPORTS"], "a") as f:
    f.write("{name}\\n")


class Op(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(name="op", unlisted={unlisted})

    def execute(self, ctx):
        return 1


class Panelish(foo.Panel):
    @property
    def config(self):
        return foo.PanelConfig(name="board")


def register(p):
    p.register(Op)
    p.register(Panelish)
"""


@pytest.fixture
def marked(env, tmp_path, monkeypatch):
    imports = tmp_path / "imports.txt"
    imports.write_text("")
    monkeypatch.setenv("FOP_TEST_IMPORTS", str(imports))
    for name, unlisted in (("one", False), ("two", True)):
        env.write_plugin(
            name,
            f"name: '@t/{name}'\noperators: [op]\npanels: [board]\n",
            {"__init__.py": MARKED_PLUGIN.format(name=name, unlisted=unlisted)},
        )
    time.sleep(0.15)  # past discovery's racy-timestamp window
    return imports


def cli(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fiftyone_plugins", *argv],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )


def imported(imports) -> list[str]:
    return imports.read_text().split()


def test_a_second_listing_imports_nothing_and_shows_the_same(marked, env):
    first = cli("operators", "list", "-u").stdout
    assert sorted(imported(marked)) == ["one", "two"]
    second = cli("operators", "list", "-u").stdout
    assert second == first and sorted(imported(marked)) == ["one", "two"]
    assert "@t/one/board" in second and "@t/two/op" in second
    cache = json.loads((env.config_path.parent / "cache" / "registrations.json").read_text())
    assert len(cache["entries"]) >= 2


def test_an_edit_an_install_or_a_disabled_cache_imports_again(marked, env, tmp_path):
    cli("operators", "list")
    (env.plugins_dir / "one" / "helper.py").write_text("X = 1\n")  # any .py file counts
    cli("operators", "list")
    assert sorted(imported(marked)) == ["one", "one", "two"]
    # a distribution installed in a folder on sys.path: every plugin may import differently
    site = tmp_path / "site"
    site.mkdir()
    cli("operators", "list", PYTHONPATH=str(site))
    (site / "newdist-1.0.dist-info").mkdir()
    cli("operators", "list", PYTHONPATH=str(site))
    assert imported(marked).count("two") == 3
    cli("operators", "list", FIFTYONE_PLUGINS_CACHE_DIR="off")
    assert imported(marked).count("two") == 4


def test_enabling_and_disabling_need_no_import(marked):
    cli("operators", "list")
    cli("plugins", "disable", "@t/two")
    out = cli("operators", "list", "-u").stdout
    line = next(row for row in out.splitlines() if row.startswith("@t/two/board"))
    assert "\u2713" not in line.split("@t/two/board", 1)[1][:12]  # enabled column empty
    cli("plugins", "enable", "@t/two")
    assert "@t/two/op" in cli("operators", "list", "-u").stdout
    assert sorted(imported(marked)) == ["one", "two"]


def test_a_plugin_that_fails_to_import_is_tried_every_time(marked, env):
    env.write_plugin(
        "broken",
        "name: '@t/broken'\noperators: [op]\n",
        {"__init__.py": "import os\nopen(os.environ['FOP_TEST_IMPORTS'], 'a').write('broken\\n')\n"
         "import not_a_module_anywhere\n"},
    )  # fmt: skip
    for _ in range(2):
        out = cli("operators", "list").stdout
        assert "failed to load" in out
    assert imported(marked).count("broken") == 2


def test_a_corrupt_cache_file_is_ignored_and_rewritten(marked, env):
    path = env.config_path.parent / "cache" / "registrations.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert "@t/one/op" in cli("operators", "list").stdout
    assert json.loads(path.read_text())["format"] == 1


DATA_PLUGIN = """
import json
import os

import fiftyone.operators as foo

NAMES = json.load(open(os.path.join(os.path.dirname(__file__), "ops.json")))


def make(name):
    class Op(foo.Operator):
        @property
        def config(self):
            return foo.OperatorConfig(name=name)

    return Op


def register(p):
    for name in NAMES:
        p.register(make(name))
"""


def test_a_data_file_the_plugin_reads_counts_as_one_of_its_files(env):
    folder = env.write_plugin(
        "data",
        "name: '@t/data'\noperators: [a, b]\n",
        {"__init__.py": DATA_PLUGIN, "ops.json": '["a"]'},
    )
    time.sleep(0.15)
    assert "@t/data/b" not in cli("operators", "list").stdout
    (folder / "ops.json").write_text('["a", "b"]')
    assert "@t/data/b" in cli("operators", "list").stdout
