"""The `plugins`, `config` and `app config` commands, in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from fiftyone_plugins.cli import main

MIXED = pathlib.Path(__file__).parent.parent / "fixtures" / "plugin_dirs" / "mixed"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def mixed(env):
    shutil.copytree(MIXED, env.plugins_dir, dirs_exist_ok=True)
    return env


def table_rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    assert set(lines[1].replace(" ", "")) == {"-"}
    return [line.split() for line in lines[2:] if line.strip()]


def test_list_prints_the_reference_table_and_a_failed_section(mixed, capsys):
    code, out, _ = run(capsys, "plugins", "list", "--no-builtins")
    assert code == 0
    table, _, failed = out.partition("Plugins that failed to load:")
    assert table.splitlines()[0].split() == ["plugin", "version", "enabled", "directory"]
    rows = {r[0]: r for r in table_rows(table)}
    assert rows["@acme/good"][1:3] == ["1.2.0", "\u2713"]
    assert rows["@acme/good"][3] == str(mixed.plugins_dir / "@acme" / "good")
    assert "broken-yaml" in failed and "malformed YAML" in failed
    assert "no-name" in failed and "dotdot" in failed


def test_list_enabled_disabled_names_glob_and_tags(mixed, capsys):
    assert run(capsys, "plugins", "disable", "@acme/dup")[0] == 0
    _, out, _ = run(capsys, "plugins", "list", "--disabled", "--names-only")
    assert out.split() == ["@acme/dup"]
    _, out, _ = run(capsys, "plugins", "list", "-e", "-n", "-c")
    assert "@acme/dup" not in out.split() and "@acme/good" in out.split()
    _, out, _ = run(capsys, "plugins", "list", "-n", "--glob-patt", "@acme/n*")
    assert out.split() == ["@acme/nested"]
    _, out, _ = run(capsys, "plugins", "list", "-n", "--tags", "demo")
    assert out.split() == ["@acme/good"]
    code, out, err = run(capsys, "plugins", "list", "-n", "-c")
    assert "warning:" in err  # broken manifests are still reported, on stderr


def test_disabled_row_has_an_empty_enabled_column(mixed, capsys):
    run(capsys, "plugins", "disable", "@acme/good")
    _, out, _ = run(capsys, "plugins", "list", "-c")
    line = next(line for line in out.splitlines() if line.startswith("@acme/good "))
    assert "\u2713" not in line


def test_toplevel_aliases(mixed, capsys):
    a = run(capsys, "list", "-n", "-c")
    b = run(capsys, "plugins", "list", "-n", "-c")
    assert a == b and "@acme/good" in a[1]


def test_info_prints_the_key_value_table(mixed, capsys):
    code, out, _ = run(capsys, "plugins", "info", "@acme/good")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["key", "value"]
    keys = [line.split()[0] for line in lines[2:] if line and not line.startswith(" ")]
    assert keys[:8] == [
        "name", "author", "version", "url", "license", "description",
        "fiftyone_compatibility", "operators",
    ]  # fmt: skip
    assert {"js_bundle", "py_entry", "js_bundle_exists", "js_bundle_server_path", "has_py",
            "has_js", "server_path", "secrets", "directory"} <= set(keys)  # fmt: skip
    # list values continue on the following lines, aligned under the value column
    op_line = lines.index(next(line for line in lines if line.startswith("operators ")))
    assert lines[op_line].split()[1] == "greet"
    assert lines[op_line + 1].split() == ["count_things"]
    assert "ACME_API_KEY" in out


def test_info_accepts_a_directory_and_shows_shadow_paths(mixed, capsys):
    code, out, _ = run(capsys, "plugins", "info", str(mixed.plugins_dir / "repo/plugins/nested"))
    assert code == 0 and "@acme/nested" in out
    _, out, _ = run(capsys, "plugins", "info", "@acme/dup")
    assert "shadow_paths" in out and "dup-two" in out


def test_manifest_warnings_reach_stderr(mixed, capsys):
    code, out, err = run(capsys, "plugins", "info", "@acme/yaml-ext")
    assert code == 0 and "not-pep440" in out
    assert "warning: version 'not-pep440' is not a PEP 440 version" in err.splitlines()


def test_errors_are_one_line_with_a_nonzero_exit(mixed, capsys):
    code, out, err = run(capsys, "plugins", "info", "@acme/goo")
    assert code == 2 and out == ""
    assert err.splitlines() == ["error: Plugin '@acme/goo' not found; did you mean '@acme/good'?"]
    code, _, err = run(capsys, "plugins", "enable")
    assert code == 1 and "--all" in err


def test_enable_disable_all_and_app_config_output(mixed, capsys):
    assert run(capsys, "plugins", "disable", "--all")[0] == 0
    _, out, _ = run(capsys, "app", "config", "plugins")
    data = json.loads(out)
    assert data["@acme/good"] == {"enabled": False}
    assert run(capsys, "plugins", "enable", "--all")[0] == 0
    _, out, _ = run(capsys, "app", "config", "plugins")
    assert json.loads(out) == {}


def test_delete_many(mixed, capsys):
    code, out, _ = run(capsys, "plugins", "delete", "@acme/nested", "plain-js")
    assert code == 0 and out.count("Deleted") == 2
    assert not (mixed.plugins_dir / "repo/plugins/nested").exists()
    code, _, err = run(capsys, "plugins", "delete", "@acme/good", "nope")
    assert code == 1 and "nope" in err
    assert not (mixed.plugins_dir / "@acme" / "good").exists()


def test_create_with_kwargs(env, capsys):
    code, out, _ = run(
        capsys, "plugins", "create", "@me/made", "--label", "Made", "--description", "D",
        "--version", ">=1.0", "--kwargs", "license=MIT", "tags=[a, b]",
    )  # fmt: skip
    assert code == 0 and "Created" in out
    _, out, _ = run(capsys, "plugins", "info", "@me/made")
    assert "MIT" in out and ">=1.0" in out
    code, _, err = run(capsys, "plugins", "create", "@me/made")
    assert code == 1 and "overwrite" in err


def test_requirements_print_and_ensure(mixed, capsys):
    code, out, _ = run(capsys, "plugins", "requirements", "@acme/good", "--print")
    assert out.split("\n")[:2] == ["pyyaml>=5", "packaging"]
    code, out, _ = run(capsys, "plugins", "requirements", "@acme/good", "--ensure")
    assert code == 0 and out.count("satisfied") == 2
    (mixed.plugins_dir / "@acme/good/requirements.txt").write_text("pyyaml\nnot-a-real-pkg-x\n")
    code, out, err = run(capsys, "plugins", "requirements", "@acme/good", "--ensure")
    assert code == 1
    assert len(out.splitlines()) == 2 and "NOT satisfied" in out
    code, _, _ = run(
        capsys, "plugins", "requirements", "@acme/good", "--ensure", "--error-level", "1"
    )
    assert code == 0


def test_config_field_and_locate(env, capsys):
    _, out, _ = run(capsys, "config", "plugins_dir")
    assert out.strip() == str(env.plugins_dir)
    _, out, _ = run(capsys, "config", "operator_timeout")
    assert out.strip() == "null"
    _, out, _ = run(capsys, "config", "--locate")
    assert out.strip() == str(env.config_path)
    _, out, _ = run(capsys, "config")
    assert json.loads(out)["plugins_dir"] == str(env.plugins_dir)
    code, _, err = run(capsys, "config", "plugin_dir")
    assert code == 1 and "plugins_dir" in err
    _, out, _ = run(capsys, "app", "config", "--locate")
    assert out.strip() == str(env.app_config_path)


def test_corrupt_app_config_fails_cleanly(env, capsys):
    env.write_plugin("x", "name: x\n")
    env.app_config_path.parent.mkdir(parents=True, exist_ok=True)
    env.app_config_path.write_text("{")
    code, _, err = run(capsys, "plugins", "list")
    assert code == 1 and str(env.app_config_path) in err and "Traceback" not in err


def test_console_script_runs_without_traceback(mixed):
    exe = shutil.which("fiftyone-plugins", path=os.path.dirname(sys.executable))
    assert exe, "the console script is installed beside the interpreter"
    ok = subprocess.run([exe, "list", "-c"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "@acme/good" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "fiftyone_plugins", "plugins", "info", "missing"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and bad.stderr.startswith("error: ")
    debug = subprocess.run(
        [exe, "--debug", "plugins", "info", "missing"], capture_output=True, text=True, timeout=60
    )
    assert "Traceback" in debug.stderr


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["plugins", "list", "--bogus"], "usage: fiftyone-plugins plugins list"),
        (["list", "--bogus"], "usage: fiftyone-plugins list"),
        (["delegated", "launch", "--bogus"], "usage: fiftyone-plugins delegated launch"),
    ],
)
def test_a_stray_argument_shows_that_commands_usage(capsys, argv, usage):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.startswith(usage)
    assert "unrecognized arguments: --bogus" in err


def test_the_lazily_built_tree_matches_the_full_one():
    import argparse

    from fiftyone_plugins.cli import build_parser, plugins

    sub = argparse.ArgumentParser().add_subparsers()
    plugins.register_toplevel(sub)
    assert sorted(sub.choices) == sorted(plugins.TOPLEVEL_COMMANDS)
    full = build_parser([])._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    lazy = build_parser(["operators", "list"])._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert sorted(full) == sorted(lazy)
    assert lazy["operators"]._subparsers is not None and lazy["plugins"]._subparsers is None


def test_list_shows_builtins_only_when_asked_and_marks_them(env, capsys):
    assert run(capsys, "plugins", "create", "@me/local")[0] == 0
    code, out, _ = run(capsys, "plugins", "list")
    assert code == 0 and [r[0] for r in table_rows(out)] == ["@me/local"]  # as the reference
    assert out.splitlines()[0].split() == ["plugin", "version", "enabled", "directory"]
    code, out, _ = run(capsys, "plugins", "list", "--include-builtins")
    assert out.splitlines()[0].split() == ["plugin", "version", "enabled", "builtin", "directory"]
    rows = {r[0]: r for r in table_rows(out)}
    assert rows["@voxel51/utils"][3] == "\u2713" and len(rows["@me/local"]) == 4  # no mark
    code, out, _ = run(capsys, "plugins", "list", "-b", "-n")
    assert out.split() == ["@voxel51/operators", "@voxel51/utils"]
    assert run(capsys, "plugins", "list", "-n")[1].split() == ["@me/local"]


def test_requirements_print_says_so_on_stderr_when_there_are_none(env, capsys):
    assert run(capsys, "plugins", "create", "@me/bare")[0] == 0
    code, out, err = run(capsys, "plugins", "requirements", "@me/bare", "--print")
    assert code == 0 and out == "" and "'@me/bare' has no requirements" in err
