"""The registry: listing, lookup, caching, invalidation, broken and disabled plugins."""

from __future__ import annotations

import sys
import time

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


def test_a_downloaded_copy_that_cannot_run_here_hides_no_builtin(env):
    # the real @voxel51/utils needs FiftyOne: its import fails, and the builtin
    # delegate operator must stay available (and come back once the copy is disabled too)
    env.write_plugin(
        "fiftyone-plugins/plugins/utils",
        "name: '@voxel51/utils'\noperators: [delegate, compute_metadata]\n",
        {"__init__.py": "import fiftyone.core.fields\n"},
    )
    assert foo.get_operator("@voxel51/utils/delegate").builtin is True
    entries = {e.uri: e for e in registry.list_entries()}
    assert entries["@voxel51/utils/delegate"].builtin is True
    assert any(e.name == "@voxel51/utils" for e in registry.list_errors())
    fop.disable_plugin("@voxel51/utils")
    assert foo.get_operator("@voxel51/utils/delegate").builtin is True


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


# -- every Python file of a plugin counts as its code (review item 3) --------------------------


def counting_plugin(name: str, value_module: str) -> tuple[str, dict[str, str]]:
    """A plugin whose operator returns ``VALUE`` of the relatively imported ``value_module``
    and which counts its imports in ``builtins._fop_import_counts[name]``."""
    package, _, attr = value_module.rpartition(".")
    init = (
        "import builtins\n"
        "import fiftyone.operators as foo\n"
        f"from .{package} import {attr} as values\n"
        "counts = builtins.__dict__.setdefault('_fop_import_counts', {})\n"
        f"counts['{name}'] = counts.get('{name}', 0) + 1\n"
        "class Op(foo.Operator):\n"
        "    config = property(lambda self: foo.OperatorConfig(name='op'))\n"
        "    def execute(self, ctx):\n"
        "        return values.VALUE\n"
        "def register(p):\n"
        "    p.register(Op)\n"
    )
    return f"name: '{name}'\noperators: [op]\n", {"__init__.py": init}


@pytest.fixture
def imports(monkeypatch) -> dict[str, int]:
    """How often each counting plugin was imported in this test."""
    import builtins

    counts: dict[str, int] = {}
    monkeypatch.setattr(builtins, "_fop_import_counts", counts, raising=False)
    return counts


def test_edited_sibling_module_is_imported_again(env, monkeypatch, imports):
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    manifest, files = counting_plugin("@t/sib", "utils")
    files["utils.py"] = "VALUE = 'v1'\n"
    folder = env.write_plugin("sib", manifest, files)
    assert foo.execute_operator("@t/sib/op").result == "v1"
    (folder / "utils.py").write_text("VALUE = 'v2, a longer value'\n")
    assert foo.execute_operator("@t/sib/op").result == "v2, a longer value"
    assert imports["@t/sib"] == 2


def test_edited_module_of_a_subpackage_is_imported_again(env, monkeypatch, imports):
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    manifest, files = counting_plugin("@t/subpkg", "pkg.deep.values")
    files["pkg/__init__.py"] = ""
    files["pkg/deep/__init__.py"] = ""
    files["pkg/deep/values.py"] = "VALUE = 'v1'\n"
    folder = env.write_plugin("subpkg", manifest, files)
    assert foo.execute_operator("@t/subpkg/op").result == "v1"
    (folder / "pkg" / "deep" / "values.py").write_text("VALUE = 'v2, a longer value'\n")
    assert foo.execute_operator("@t/subpkg/op").result == "v2, a longer value"
    # a new module anywhere in the plugin counts too
    (folder / "pkg" / "new_module.py").write_text("X = 1\n")
    foo.execute_operator("@t/subpkg/op")
    assert imports["@t/subpkg"] == 3


def test_files_outside_the_plugin_code_do_not_cause_a_new_import(env, monkeypatch, imports):
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    manifest, files = counting_plugin("@t/quiet", "utils")
    files["utils.py"] = "VALUE = 'v1'\n"
    folder = env.write_plugin("quiet", manifest, files)
    assert foo.execute_operator("@t/quiet/op").result == "v1"
    for rel in ("__pycache__/x.py", ".hidden/x.py", "node_modules/pkg/x.py", "data.txt"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("X = 'not plugin code'\n")
    for _ in range(3):
        assert foo.execute_operator("@t/quiet/op").result == "v1"
    foo.list_operators()
    assert imports["@t/quiet"] == 1


# -- a plugin whose import failed is imported again (review item 4) -----------------------------


@pytest.fixture
def late_package(env, tmp_path, monkeypatch):
    """A plugin importing a package that is not installed yet; ``install()`` installs it."""
    import importlib

    site = tmp_path / "late-site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    module = f"fop_late_pkg_{tmp_path.name.replace('-', '_')}"
    env.write_plugin(
        "needs",
        "name: '@t/needs'\noperators: [op]\n",
        {
            "__init__.py": (
                "import fiftyone.operators as foo\n"
                f"import {module}\n"
                "class Op(foo.Operator):\n"
                "    config = property(lambda self: foo.OperatorConfig(name='op'))\n"
                "    def execute(self, ctx):\n"
                f"        return {module}.VALUE\n"
                "def register(p):\n"
                "    p.register(Op)\n"
            ),
            "requirements.txt": f"{module}\n",
        },
    )
    # only a generation bump (or the recheck a test asks for) may cause a retry
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 3600.0)
    with pytest.raises(PluginLoadError) as info:
        foo.get_operator("@t/needs/op")
    assert info.value.missing_module == module

    def install():
        (site / f"{module}.py").write_text("VALUE = 'installed'\n")

    yield install
    sys.modules.pop(module, None)
    importlib.invalidate_caches()


def test_failed_import_is_retried_after_discovery_invalidate(late_package):
    late_package()
    with pytest.raises(PluginLoadError):  # the snapshot is trusted for RECHECK_INTERVAL
        foo.get_operator("@t/needs/op")
    discovery.invalidate()
    assert foo.execute_operator("@t/needs/op").result == "installed"
    assert not [e for e in registry.list_errors() if getattr(e, "name", "") == "@t/needs"]


def test_failed_import_is_retried_at_the_next_recheck(late_package, monkeypatch):
    late_package()
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    assert foo.execute_operator("@t/needs/op").result == "installed"


def test_failed_import_is_retried_after_a_plugin_is_enabled_or_disabled(late_package, env):
    manifest, files = simple_plugin("@t/other", ["op"])
    env.write_plugin("other", manifest, files)
    late_package()
    fop.disable_plugin("@t/other")
    assert "@t/needs/op" in uris()
    fop.enable_plugin("@t/other")
    assert foo.execute_operator("@t/needs/op").result == "installed"
    assert foo.execute_operator("@t/other/op").result == "@t/other/op"


def test_failed_import_is_retried_after_its_requirements_are_installed(late_package, monkeypatch):
    import subprocess

    from fiftyone_plugins import requirements

    def fake_pip(command, **kwargs):
        assert command[-2:] == ["-r", kwargs["cwd"] + "/requirements.txt"]
        late_package()
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(requirements.subprocess, "run", fake_pip)
    assert requirements.install_plugin_requirements("@t/needs") is True
    assert foo.execute_operator("@t/needs/op").result == "installed"


def test_a_plugin_that_keeps_failing_is_not_imported_on_every_lookup(env):
    manifest, files = simple_plugin(
        "@t/broken",
        ["op"],
        "import builtins\nbuiltins._fop_broken = getattr(builtins, '_fop_broken', 0) + 1\n"
        "raise RuntimeError('broken on purpose')",
    )
    env.write_plugin("broken", manifest, files)
    import builtins

    builtins._fop_broken = 0
    for _ in range(5):
        with pytest.raises(PluginLoadError, match="broken on purpose"):
            foo.get_operator("@t/broken/op")
        foo.list_operators()
    assert builtins._fop_broken == 1
    discovery.invalidate()
    with pytest.raises(PluginLoadError):
        foo.get_operator("@t/broken/op")
    assert builtins._fop_broken == 2


def test_missing_package_hint_depends_on_requirements_txt(env):
    env.write_plugin(
        "noreq",
        "name: '@t/noreq'\noperators: [op]\n",
        {"__init__.py": "import fop_surely_not_installed_pkg\n"},
    )
    [error] = [e for e in registry.list_errors() if isinstance(e, PluginLoadError)]
    assert error.missing_module == "fop_surely_not_installed_pkg"
    assert "install the package providing 'fop_surely_not_installed_pkg'" in str(error)
    assert "plugins requirements" not in str(error)
    assert "imported again" in str(error)


# -- FiftyOne's add_sys_path sibling imports (review item 5) ------------------------------------

ADD_SYS_PATH_PLUGIN = """\
import os

import fiftyone.core.utils as fou
import fiftyone.operators as foo

with fou.add_sys_path(os.path.dirname(os.path.abspath(__file__))):
    import utils
    from utils import {helper}


class Op(foo.Operator):
    config = property(lambda self: foo.OperatorConfig(name="op"))

    def execute(self, ctx):
        with fou.add_sys_path(os.path.dirname(os.path.abspath(__file__))):
            import utils as again  # a lazy import at execution time, as some plugins do
        return [{helper}(), utils.WHO, again is utils]


def register(p):
    p.register(Op)
"""


def add_sys_path_plugin(env, name: str) -> None:
    env.write_plugin(
        name,
        f"name: '@t/{name}'\noperators: [op]\n",
        {
            "__init__.py": ADD_SYS_PATH_PLUGIN.format(helper=f"helper_{name}"),
            "utils.py": f"WHO = '{name}'\n\ndef helper_{name}():\n    return 'helper {name}'\n",
        },
    )


def test_add_sys_path_sibling_modules_of_two_plugins_do_not_collide(env):
    add_sys_path_plugin(env, "a")
    add_sys_path_plugin(env, "b")
    assert registry.list_errors() == []
    assert foo.execute_operator("@t/a/op").result == ["helper a", "a", True]
    assert foo.execute_operator("@t/b/op").result == ["helper b", "b", True]
    assert foo.execute_operator("@t/a/op").result == ["helper a", "a", True]
    # the name stays with its first owner (a, or an earlier test's plugin), as FiftyOne would
    # leave it: the later plugin b never displaced it
    assert getattr(sys.modules.get("utils"), "WHO", None) != "b"


def test_add_sys_path_sibling_modules_in_the_other_order(env):
    add_sys_path_plugin(env, "a")
    add_sys_path_plugin(env, "b")
    assert foo.execute_operator("@t/b/op").result == ["helper b", "b", True]
    assert foo.execute_operator("@t/a/op").result == ["helper a", "a", True]


def test_add_sys_path_sibling_module_edits_are_seen(env, monkeypatch):
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    add_sys_path_plugin(env, "a")
    assert foo.execute_operator("@t/a/op").result == ["helper a", "a", True]
    (env.plugins_dir / "a" / "utils.py").write_text(
        "WHO = 'edited a'\n\ndef helper_a():\n    return 'edited helper a'\n"
    )
    assert foo.execute_operator("@t/a/op").result == ["edited helper a", "edited a", True]


def test_vendored_modules_on_add_sys_path_stay_importable_like_in_fiftyone(env):
    env.add_fixture_plugin("fo_style")  # imports lib/fo_style_vendored.py that way
    assert foo.execute_operator("@test/fo-style/configured").result["vendored"] == "vendored ok"
    assert registry.list_errors() == []
    # it stays in sys.modules (its first owner keeps the name; here an earlier test's copy
    # of the same fixture may own it)
    assert sys.modules["fo_style_vendored"].__file__.endswith("lib/fo_style_vendored.py")


def test_a_plain_import_at_run_time_finds_a_module_loaded_with_add_sys_path(env):
    env.write_plugin(
        "lazy",
        "name: '@t/lazy'\noperators: [op]\n",
        {
            "__init__.py": (
                "import os\n\nimport fiftyone.core.utils as fou\n"
                "import fiftyone.operators as foo\n\n"
                "with fou.add_sys_path(os.path.dirname(os.path.abspath(__file__))):\n"
                "    import lazy_helpers_q\n\n\n"
                "class Op(foo.Operator):\n"
                "    config = property(lambda self: foo.OperatorConfig(name='op'))\n\n"
                "    def execute(self, ctx):\n"
                "        import lazy_helpers_q as again  # no add_sys_path: works in FiftyOne\n\n"
                "        return again.VALUE\n\n\n"
                "def register(p):\n    p.register(Op)\n"
            ),
            "lazy_helpers_q.py": "VALUE = 'found'\n",
        },
    )
    assert foo.execute_operator("@t/lazy/op").result == "found"


def test_a_host_module_of_the_same_name_is_left_alone(env, monkeypatch):
    import types

    host = types.ModuleType("utils")
    monkeypatch.setitem(sys.modules, "utils", host)
    add_sys_path_plugin(env, "a")
    foo.list_operators()
    assert sys.modules["utils"] is host


def test_plugin_import_errors_get_the_requirements_hint_only_for_missing_packages(env):
    add_sys_path_plugin(env, "a")
    env.write_plugin(  # imports a name its utils.py does not define
        "wrong_name",
        "name: '@t/wrong-name'\noperators: [op]\n",
        {
            "__init__.py": ADD_SYS_PATH_PLUGIN.format(helper="helper_nope"),
            "utils.py": "WHO = 'x'\n",
            "requirements.txt": "requests\n",
        },
    )
    env.write_plugin(  # an absolute import of its own module without add_sys_path
        "absolute",
        "name: '@t/absolute'\noperators: [op]\n",
        {"__init__.py": "import own_helpers\n", "own_helpers.py": "", "requirements.txt": "x\n"},
    )
    env.write_plugin(  # a relative import of a module it does not have
        "relative",
        "name: '@t/relative'\noperators: [op]\n",
        {"__init__.py": "from . import not_there\n", "requirements.txt": "x\n"},
    )
    errors = {e.name: e for e in registry.list_errors() if isinstance(e, PluginLoadError)}
    assert set(errors) == {"@t/wrong-name", "@t/absolute", "@t/relative"}
    assert "cannot import name 'helper_nope' from 'utils'" in str(errors["@t/wrong-name"])
    assert "own_helpers" in str(errors["@t/absolute"])
    assert "from . import own_helpers" in str(errors["@t/absolute"])
    for error in errors.values():
        assert "requirements" not in str(error) and error.missing_module is None
    assert foo.execute_operator("@t/a/op").result == ["helper a", "a", True]


# -- an operator's config must be an OperatorConfig (review item 10) ----------------------------


BAD_CONFIG_PLUGIN = """\
import types

import fiftyone.operators as foo

FLIP = {"broken": False}


class Good(foo.Operator):
    config = property(lambda self: foo.OperatorConfig(name="good"))

    def execute(self, ctx):
        return "good"


class Namespace(foo.Operator):
    config = property(lambda self: types.SimpleNamespace(name="nsconfig", label="x"))


class NoConfig(foo.Operator):
    config = property(lambda self: None)


class Flips(foo.Operator):
    @property
    def config(self):
        if FLIP["broken"]:
            raise RuntimeError("config broke later")
        return foo.OperatorConfig(name="flips")


def register(p):
    p.register(Good)
    p.register(Namespace)
    p.register(NoConfig)
    p.register(Flips)
"""


def test_operator_config_that_is_not_an_operator_config_is_a_registration_error(env, capsys):
    from fiftyone_plugins.cli import main
    from fiftyone_plugins.errors import OperatorRegistrationError

    env.write_plugin(
        "badcfg",
        "name: '@t/badcfg'\noperators: [good, nsconfig, flips]\n",
        {"__init__.py": BAD_CONFIG_PLUGIN},
    )
    manifest, files = simple_plugin("@t/fine", ["op"])
    env.write_plugin("fine", manifest, files)
    assert uris(builtin=False) == ["@t/badcfg/good", "@t/badcfg/flips", "@t/fine/op"]
    messages = [str(e) for e in registry.list_errors() if isinstance(e, OperatorRegistrationError)]
    assert any("Namespace" in m and "OperatorConfig" in m for m in messages)
    assert any("NoConfig" in m and "OperatorConfig" in m for m in messages)
    assert main(["operators", "list"]) == 0
    out = capsys.readouterr().out
    assert "@t/fine/op" in out and "@t/badcfg/good" in out

    # a config that breaks after registration hides only that operator, from the registry's
    # next snapshot on (a repeated listing reads no config: it is kept with the snapshot)
    [name] = [n for n in sys.modules if n.startswith("_fiftyone_plugins_.t_badcfg_")]
    sys.modules[name].FLIP["broken"] = True
    discovery.invalidate()  # any change through the API makes a new snapshot
    assert uris(builtin=False) == ["@t/badcfg/good", "@t/fine/op"]
    assert foo.execute_operator("@t/badcfg/good").result == "good"


# -- operator_timeout edited in the config file (review item 11) --------------------------------


def test_operator_timeout_edited_in_the_config_file_is_seen_at_the_next_recheck(env, monkeypatch):
    import json

    from fiftyone_plugins.errors import ExecutionTimeoutError

    env.add_fixture_plugin("kinds")
    env.config_path.parent.mkdir(parents=True, exist_ok=True)
    env.config_path.write_text(json.dumps({"operator_timeout": 30}))
    # freshly written plugin folders are rescanned on every recheck (racy timestamps), which
    # would start a new snapshot anyway: keep the scan result the same, as for older folders
    scanned = discovery.downloaded_plugins()
    monkeypatch.setattr(discovery, "downloaded_plugins", lambda plugins_dir=None: scanned)
    assert foo.execute_operator("@test/kinds/slow_op", params={"seconds": 0.01}).result == (
        "finished"
    )
    env.config_path.write_text(json.dumps({"operator_timeout": 0.2}))
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    with pytest.raises(ExecutionTimeoutError, match="0.2 seconds"):
        foo.execute_operator("@test/kinds/slow_op", params={"seconds": 1.0})
    env.config_path.write_text(json.dumps({"operator_timeout": None, "x": 1}))
    assert foo.execute_operator("@test/kinds/slow_op", params={"seconds": 0.3}).result == (
        "finished"
    )


# -- repeated listings (speed issue: nothing rebuilt when nothing changed) -----------------------

COUNTING_PLUGIN = """
import fiftyone.operators as foo

READS = {"config": 0}


class Counted(foo.Operator):
    @property
    def config(self):
        READS["config"] += 1
        return foo.OperatorConfig(name="counted")

    def execute(self, ctx):
        return READS["config"]


def register(p):
    p.register(Counted)
"""


def _reads() -> dict[str, int]:
    [name] = [n for n in sys.modules if n.startswith("_fiftyone_plugins_.t_counting_")]
    return sys.modules[name].READS


def test_a_repeated_listing_reads_no_config_and_sees_every_change_at_once(env, monkeypatch):
    env.write_plugin("counting", "name: '@t/counting'\noperators: [counted]\n",
                     {"__init__.py": COUNTING_PLUGIN})  # fmt: skip
    manifest, files = simple_plugin("@t/other", ["op"])
    env.write_plugin("other", manifest, files)
    first = uris(builtin=False)
    reads = _reads()["config"]
    for _ in range(5):
        assert uris(builtin=False) == first
        assert [e.uri for e in registry.list_entries(builtin=False)] == first
    # op.uri reads the config (the listings themselves do not)
    assert _reads()["config"] - reads == 5
    fop.disable_plugin("@t/other")
    assert uris(builtin=False) == ["@t/counting/counted"]
    fop.enable_plugin("@t/other")
    assert uris(builtin=False) == first
    returned = foo.list_operators(builtin=False)
    returned.clear()  # a caller's changes never reach the kept answer
    assert uris(builtin=False) == first


def test_edits_are_seen_through_the_source_watch(env, monkeypatch):
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    manifest, files = simple_plugin("@t/watched", ["op"])
    code = files["__init__.py"].replace("return '@t/watched/op'", "return VALUE")
    folder = env.write_plugin(
        "watched",
        manifest,
        {
            "__init__.py": "from .lib.helper import VALUE\n" + code,
            "lib/__init__.py": "",
            "lib/helper.py": "VALUE = 'one'\n",
        },
    )
    assert foo.execute_operator("@t/watched/op").result == "one"
    time.sleep(0.15)  # past discovery's racy-timestamp window: the snapshot can be kept
    for _ in range(3):  # rechecks: the first arms the watch, the next ones read it
        assert foo.execute_operator("@t/watched/op").result == "one"
    from fiftyone_plugins.operators import snapshot

    assert snapshot._watch is not None  # Linux: inotify watches the plugin's source folders
    (folder / "lib" / "helper.py").write_text("VALUE = 'two, a longer value'\n")
    assert foo.execute_operator("@t/watched/op").result == "two, a longer value"
    (folder / "lib" / "deeper").mkdir()  # a new subpackage counts too
    (folder / "lib" / "deeper" / "__init__.py").write_text("VALUE = 'three'\n")
    (folder / "lib" / "helper.py").write_text("from .deeper import VALUE\n")
    assert foo.execute_operator("@t/watched/op").result == "three"


def test_an_edit_behind_a_symbolic_link_is_seen(env, monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "RECHECK_INTERVAL", 0.0)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "impl.py").write_text("VALUE = 'one'\n")
    manifest, files = simple_plugin("@t/linked", ["op"])
    code = files["__init__.py"].replace("return '@t/linked/op'", "return VALUE")
    folder = env.write_plugin(
        "linked", manifest, {"__init__.py": "from .impl import VALUE\n" + code}
    )
    (folder / "impl.py").symlink_to(elsewhere / "impl.py")
    time.sleep(0.15)
    for _ in range(3):  # rechecks: a link's target is outside every watched folder
        assert foo.execute_operator("@t/linked/op").result == "one"
    (elsewhere / "impl.py").write_text("VALUE = 'two, changed behind the link'\n")
    assert foo.execute_operator("@t/linked/op").result == "two, changed behind the link"
