"""The registry: listing, lookup, caching, invalidation, broken and disabled plugins."""

from __future__ import annotations

import sys

import pytest

import fiftyone_plugins as fop
import fiftyone_plugins.operators as foo
from fiftyone_plugins import discovery
from fiftyone_plugins.errors import OperatorNotFoundError, PluginLoadError
from fiftyone_plugins.operators import registry


def simple_plugin(name: str, ops: list[str], marker: str = "") -> tuple[str, dict[str, str]]:
    manifest = f"name: '{name}'\noperators: [{', '.join(ops)}]\n"
    body = ["import fiftyone.operators as foo", marker]
    for op in ops:
        body.append(
            f"class C_{op}(foo.Operator):\n"
            f"    @property\n"
            f"    def config(self):\n"
            f"        return foo.OperatorConfig(name='{op}')\n"
            f"    def execute(self, ctx):\n"
            f"        return '{name}/{op}'\n"
        )
    body.append("def register(p):\n" + "".join(f"    p.register(C_{op})\n" for op in ops))
    return manifest, {"__init__.py": "\n".join(body)}


@pytest.fixture
def fixtures(env):
    for name in ("kinds", "fo_style", "missing_dep", "undeclared", "js_only"):
        env.add_fixture_plugin(name)
    return env


def uris(**kwargs):
    return [op.uri for op in foo.list_operators(**kwargs)]


def test_list_operators_filters(fixtures):
    everything = uris(enabled="all")
    assert "@test/kinds/sync_op" in everything
    assert "@voxel51/operators/print_stdout" in everything
    assert set(uris(builtin=True)) == {
        "@voxel51/operators/print_stdout",
        "@voxel51/operators/list_files",
        "@voxel51/utils/delegate",
    }
    assert not any(u.startswith("@voxel51/") for u in uris(builtin=False))
    assert uris(type="panel") == ["@test/fo-style/counter"]
    assert "@test/fo-style/counter" not in uris(type="operator")
    assert uris(type=foo.Panel) == ["@test/fo-style/counter"]
    assert uris(type="fiftyone_plugins.operators.panel.Panel") == ["@test/fo-style/counter"]


def test_get_operator_returns_the_cached_instance(fixtures):
    first = foo.get_operator("@test/kinds/sync_op")
    assert foo.get_operator("@test/kinds/sync_op") is first
    assert isinstance(first, foo.Operator) and first.plugin_name == "@test/kinds"
    assert foo.operator_exists("@test/kinds/sync_op")
    assert not foo.operator_exists("@test/kinds/nope")


def test_unknown_uri_suggests_close_matches(fixtures):
    with pytest.raises(OperatorNotFoundError) as info:
        foo.get_operator("@test/kinds/sync_opp")
    assert "@test/kinds/sync_op" in info.value.suggestions
    assert "did you mean" in str(info.value)
    with pytest.raises(OperatorNotFoundError, match="operators list"):
        foo.get_operator("@nobody/nothing/zzzzzz")


def test_plugin_code_is_imported_once(env):
    manifest, files = simple_plugin(
        "@t/counted",
        ["a", "b"],
        "import builtins\nbuiltins._fop_imports = getattr(builtins, '_fop_imports', 0) + 1",
    )
    env.write_plugin("counted", manifest, files)
    import builtins

    builtins._fop_imports = 0
    for _ in range(5):
        foo.execute_operator("@t/counted/a")
        foo.list_operators()
    foo.get_operator("@t/counted/b")
    assert builtins._fop_imports == 1


def test_lookup_imports_only_the_plugin_it_needs(env):
    for name in ("one", "two"):
        manifest, files = simple_plugin(f"@t/{name}", ["op"])
        env.write_plugin(name, manifest, files)
    foo.execute_operator("@t/one/op")
    loaded = [m for m in sys.modules if m.startswith("_fiftyone_plugins_.t_two_")]
    assert loaded == []
    assert [m for m in sys.modules if m.startswith("_fiftyone_plugins_.t_one_")]


def test_disable_and_enable_invalidate_immediately(fixtures):
    assert foo.operator_exists("@test/kinds/sync_op")
    fop.disable_plugin("@test/kinds")
    assert not foo.operator_exists("@test/kinds/sync_op")
    with pytest.raises(OperatorNotFoundError, match="disabled"):
        foo.get_operator("@test/kinds/sync_op")
    stand_in = foo.get_operator("@test/kinds/sync_op", enabled=False)
    assert isinstance(stand_in, registry.DeclaredOperator) and stand_in.loaded is False
    assert "@test/kinds/sync_op" in uris(enabled=False)
    fop.enable_plugin("@test/kinds")
    assert foo.execute_operator("@test/kinds/sync_op").result["delegated"] is False


def test_disabled_plugin_code_is_never_imported(env):
    manifest, files = simple_plugin("@t/poison", ["x"], "raise RuntimeError('imported!')")
    manifest += "panels: [p]\n"
    env.write_plugin("poison", manifest, files)
    fop.disable_plugin("@t/poison")
    entries = {e.uri: e for e in registry.list_entries()}
    assert entries["@t/poison/x"].enabled is False and entries["@t/poison/x"].unlisted is None
    assert entries["@t/poison/p"].panel is True
    assert registry.list_errors() == []
    assert not [m for m in sys.modules if m.startswith("_fiftyone_plugins_.t_poison_")]


def test_new_plugins_on_disk_are_seen_after_the_recheck_interval(env, monkeypatch):
    assert not foo.operator_exists("@t/late/op")
    manifest, files = simple_plugin("@t/late", ["op"])
    env.write_plugin("late", manifest, files)
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    assert foo.operator_exists("@t/late/op")


def test_edited_plugin_code_is_imported_again(env, monkeypatch):
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    manifest, files = simple_plugin("@t/edit", ["op"])
    folder = env.write_plugin("edit", manifest, files)
    assert foo.execute_operator("@t/edit/op").result == "@t/edit/op"
    text = files["__init__.py"].replace("return '@t/edit/op'", "return 'edited, longer result'")
    (folder / "__init__.py").write_text(text)
    assert foo.execute_operator("@t/edit/op").result == "edited, longer result"


def test_undeclared_and_duplicate_registrations_are_reported(fixtures):
    assert foo.operator_exists("@test/undeclared/declared")
    assert not foo.operator_exists("@test/undeclared/sneaky")
    messages = [
        str(e) for e in registry.list_errors() if getattr(e, "name", "") == "@test/undeclared"
    ]
    assert any("'sneaky' is not declared" in m for m in messages)
    assert any("registered twice" in m for m in messages)
    assert any("BrokenConfig" in m and "no config for you" in m for m in messages)


def test_failing_import_is_reported_and_hides_no_other_plugin(fixtures):
    [error] = [e for e in registry.list_errors() if isinstance(e, PluginLoadError)]
    assert error.name == "@test/missing-dep"
    assert error.missing_module == "fop_not_a_real_package_xyz"
    assert "engine.py" in str(error)
    assert "fiftyone-plugins plugins requirements @test/missing-dep --install" in str(error)
    assert foo.operator_exists("@test/kinds/sync_op")
    with pytest.raises(PluginLoadError):
        foo.get_operator("@test/missing-dep/needs_package")
    assert not [m for m in sys.modules if m.startswith("_fiftyone_plugins_.test_missing_dep")]


def test_js_only_operators_are_not_errors(fixtures):
    assert not [e for e in registry.list_errors() if getattr(e, "name", "") == "@test/js-only"]
    with pytest.raises(OperatorNotFoundError, match="JavaScript"):
        foo.get_operator("@test/js-only/js_operator")


def test_plugins_get_collision_free_module_names(env):
    for name, value in (("first", "1"), ("second", "2")):
        manifest, files = simple_plugin(f"@t/{name}", ["op"])
        files["__init__.py"] = (
            files["__init__.py"]
            .replace(f"return '@t/{name}/op'", "return utils.VALUE")
            .replace(
                "import fiftyone.operators as foo",
                "import fiftyone.operators as foo\nfrom . import utils",
            )
        )
        files["utils.py"] = f"VALUE = {value}\n"
        env.write_plugin(name, manifest, files)
    assert foo.execute_operator("@t/first/op").result == 1
    assert foo.execute_operator("@t/second/op").result == 2


def test_custom_py_entry_with_relative_imports(env):
    env.write_plugin(
        "entry",
        "name: '@t/entry'\npy_entry: src/main.py\noperators: [op]\n",
        {
            "src/helpers.py": "VALUE = 'from helpers'\n",
            "src/main.py": (
                "import fiftyone.operators as foo\n"
                "from .helpers import VALUE\n"
                "class Op(foo.Operator):\n"
                "    config = property(lambda self: foo.OperatorConfig(name='op'))\n"
                "    def execute(self, ctx):\n"
                "        return VALUE\n"
                "def register(p):\n"
                "    p.register(Op)\n"
            ),
        },
    )
    assert foo.execute_operator("@t/entry/op").result == "from helpers"


def test_missing_register_function_is_reported(env):
    env.write_plugin("noreg", "name: '@t/noreg'\noperators: [op]\n", {"__init__.py": "X = 1\n"})
    assert any("register(p)" in str(e) for e in registry.list_errors())


def test_downloaded_plugin_takes_precedence_for_its_own_uris(env, capsys):
    env.add_fixture_plugin("override_operators")
    assert foo.execute_operator("@voxel51/operators/print_stdout", params={"msg": "x"}).result == (
        "downloaded print_stdout"
    )
    assert capsys.readouterr().out == ""
    entries = {e.uri: e for e in registry.list_entries()}
    assert entries["@voxel51/operators/print_stdout"].builtin is False
    assert entries["@voxel51/operators/list_files"].builtin is True
    assert foo.get_operator("@voxel51/operators/list_files").builtin is True


def test_operator_registry_object(fixtures):
    reg = foo.OperatorRegistry()
    assert reg.operator_exists("@test/kinds/sync_op") and reg.can_execute("@test/kinds/sync_op")
    assert reg.get_operator("@test/kinds/nope") is None
    assert any(op.uri == "@test/kinds/gen_op" for op in reg.list_operators(builtin=False))
    assert reg.list_errors()


def test_invalidate_forgets_imported_plugins(fixtures):
    first = foo.get_operator("@test/kinds/sync_op")
    registry.invalidate()
    assert foo.get_operator("@test/kinds/sync_op") is not first
    discovery.invalidate()
