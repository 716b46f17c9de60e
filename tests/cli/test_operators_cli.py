"""The `operators` commands: list (filters, failed plugins), info, execute."""

from __future__ import annotations

import json

import pytest

import fiftyone_plugins as fop
from fiftyone_plugins.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows(out: str) -> dict[str, list[str]]:
    table = out.split("\n\n")[0]
    lines = table.splitlines()
    assert lines[0].split() == ["uri", "enabled", "builtin", "panel", "unlisted"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    header = lines[0]
    starts = [header.index(col) for col in ("enabled", "builtin", "panel", "unlisted")]
    result = {}
    for line in lines[2:]:
        line = line.ljust(len(header) + 2)
        result[line.split()[0]] = [line[s : s + 1].strip() for s in starts]
    return result


@pytest.fixture
def plugins(env):
    for name in ("fo_style", "kinds", "missing_dep", "undeclared", "secrets"):
        env.add_fixture_plugin(name)
    fop.disable_plugin("@test/secrets")
    return env


def test_list_shows_the_reference_columns(plugins, capsys):
    code, out, _ = run(capsys, "operators", "list")
    assert code == 0
    table = rows(out)
    assert table["@test/kinds/sync_op"] == ["\u2713", "", "", ""]
    assert table["@test/fo-style/counter"] == ["\u2713", "", "\u2713", "\u2713"]
    assert table["@test/secrets/show_secrets"] == ["", "", "", ""]  # disabled: from manifest
    assert "@test/fo-style/configured" not in table  # unlisted
    assert "@voxel51/operators/print_stdout" not in table


def test_list_reports_plugins_that_failed_to_load(plugins, capsys):
    _, out, _ = run(capsys, "operators", "list")
    _, _, failed = out.partition("Plugins that failed to load:")
    failed, _, unregistered = failed.partition("Operators that could not be registered")
    assert "@test/missing-dep" in failed and "fop_not_a_real_package_xyz" in failed
    assert "plugins requirements @test/missing-dep --install" in failed
    # an undeclared operator is reported, but its plugin did load
    assert "'sneaky' is not declared" in unregistered and "@test/undeclared" not in failed
    assert "@test/undeclared/declared" in out.partition("Plugins that failed")[0]


def test_list_filters(plugins, capsys):
    _, out, _ = run(capsys, "operators", "list", "-u", "-n")
    names = out.split()
    assert "@test/fo-style/configured" in names and "@voxel51/operators/print_stdout" in names
    _, out, _ = run(capsys, "operators", "list", "--disabled", "-n")
    assert out.split()[:2] == ["@test/secrets/show_secrets", "@test/secrets/leak_secret"]
    assert all(n.startswith("@test/secrets/") for n in out.split())
    _, out, _ = run(capsys, "operators", "list", "--enabled", "-n")
    assert "@test/secrets/show_secrets" not in out.split()
    _, out, _ = run(capsys, "operators", "list", "-b", "-u", "-n")
    assert set(out.split()) == {
        "@voxel51/operators/print_stdout",
        "@voxel51/operators/list_files",
        "@voxel51/utils/delegate",
    }
    _, out, err = run(capsys, "operators", "list", "-b", "-n")
    assert out.split() == [] and "note: 3 unlisted operator(s) not shown; add -u" in err
    _, out, err = run(capsys, "operators", "list", "-c", "-u", "-n")
    assert not [n for n in out.split() if n.startswith("@voxel51/")] and "note:" not in err
    _, out, _ = run(capsys, "operators", "list", "--panels-only", "-n")
    assert out.split() == ["@test/fo-style/counter"]
    _, out, _ = run(capsys, "operators", "list", "-o", "-n", "-u")
    assert "@test/fo-style/counter" not in out.split()
    _, out, _ = run(capsys, "operators", "list", "-n", "-g", "@test/kinds/*_op")
    assert "@test/kinds/sync_op" in out.split() and "@test/kinds/forced" not in out.split()
    assert all(n.startswith("@test/kinds/") for n in out.split())


def test_info_prints_the_reference_table(plugins, capsys):
    code, out, _ = run(capsys, "operators", "info", "@test/fo-style/shout")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["key", "value"]
    table = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert list(table)[:3] == ["name", "label", "description"]
    assert table["name"] == ["shout"] and table["dynamic"] == ["True"]
    assert table["description"] == ["Upper-cases", "a", "message"]
    assert table["resolve_execution_options_on_change"] == ["True"]
    assert table["delegation_target"] == []
    code, _, err = run(capsys, "operators", "info", "@test/fo-style/shoot")
    assert code == 2 and "did you mean" in err


def test_info_of_a_disabled_plugins_operator_shows_only_what_is_known(plugins, capsys):
    code, out, err = run(capsys, "operators", "info", "@test/secrets/show_secrets")
    assert code == 0
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert table == {"name": ["show_secrets"], "plugin": ["@test/secrets"], "enabled": ["False"]}
    assert "is disabled" in err and "plugins enable @test/secrets" in err


def test_execute_prints_json(plugins, capsys):
    code, out, _ = run(
        capsys, "operators", "execute", "@test/fo-style/shout", "--params", '{"message": "hi"}'
    )
    assert code == 0
    assert json.loads(out)["result"] == {"message": "HI!", "suffix": "!"}
    args = ("operators", "execute", "@test/kinds/delegatable", "--params", '{"x": 1}')
    args += ("--delegate", "--target", "gpu")
    code, out, err = run(capsys, *args)
    data = json.loads(out)
    assert code == 0 and data["run_state"] == "queued" and data["delegation_target"] == "gpu"
    assert f"delegated operation {data['id']}" in err and "metadata" not in data


def test_execute_errors_are_one_line_and_an_exit_code(plugins, capsys):
    code, _, err = run(capsys, "operators", "execute", "@test/kinds/fail_op")
    assert (
        code == 1
        and err.strip() == "error: Operator '@test/kinds/fail_op' failed: RuntimeError: boom"
    )
    code, _, err = run(capsys, "operators", "execute", "@test/kinds/schema_op")
    assert code == 1 and "Validation error. Path: name. Reason: Required property" in err
    code, _, err = run(capsys, "operators", "execute", "@test/kinds/sync_op", "--params", "[1]")
    assert code == 1 and "JSON object" in err
    code, _, err = run(capsys, "operators", "execute", "@test/kinds/sync_op", "--params", "{")
    assert code == 1 and "not valid JSON" in err
    code, _, err = run(capsys, "operators", "execute", "@test/nope/op")
    assert code == 2


def test_operators_without_a_command_prints_help(capsys):
    code, out, _ = run(capsys, "operators")
    assert code == 2 and "list" in out and "execute" in out
