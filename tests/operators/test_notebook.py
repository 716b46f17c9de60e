"""A real Jupyter kernel: a cell awaits an operator's result, another shows the returned Task."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")


@pytest.fixture
def kernel(env):
    env.add_fixture_plugin("kinds")
    from jupyter_client.manager import KernelManager

    kernel_env = {
        **os.environ,
        "FIFTYONE_PLUGINS_DIR": str(env.plugins_dir),
        "FIFTYONE_CONFIG_PATH": str(env.config_path),
        "FIFTYONE_APP_CONFIG_PATH": str(env.app_config_path),
        "FIFTYONE_DELEGATED_OPERATION_STORE": "memory://",
    }
    manager = KernelManager()
    manager.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    manager.start_kernel(env=kernel_env, cwd=str(env.root))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run_cell(client, code: str) -> dict[str, list[str]]:
    """Runs a cell and collects its stdout, stderr, results and errors."""
    outputs: dict[str, list[str]] = {"stdout": [], "stderr": [], "result": [], "error": []}

    def collect(message):
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            outputs[content["name"]].append(content["text"])
        elif kind in ("execute_result", "display_data"):
            outputs["result"].append(content["data"].get("text/plain", ""))
        elif kind == "error":
            outputs["error"].append(f"{content['ename']}: {content['evalue']}")

    reply = client.execute_interactive(textwrap.dedent(code), timeout=60, output_hook=collect)
    assert reply["content"]["status"] == "ok", outputs["error"]
    return outputs


def test_notebook_cells_await_operators_and_show_tasks(kernel):
    out = run_cell(
        kernel,
        """
        import fiftyone_plugins.operators as foo
        result = await foo.execute_operator("@test/kinds/sync_op", params={"x": 5})
        print(result.result)
        """,
    )
    assert "".join(out["stdout"]).strip() == "{'x': 5, 'delegated': False}"

    out = run_cell(kernel, 'foo.execute_operator("@test/kinds/async_op", params={"x": 1})')
    assert len(out["result"]) == 1 and "Task" in out["result"][0]

    out = run_cell(
        kernel,
        """
        op = foo.get_operator("@test/kinds/gen_op")
        gen = await op(n=2)
        failed = await foo.execute_operator("@test/kinds/fail_op")
        agen = await foo.execute_operator_async("@test/kinds/agen_op")
        print(gen.yielded[:2], gen.result, failed.error, len(agen.yielded))
        """,
    )
    assert "".join(out["stdout"]).strip() == "[0, 1] None RuntimeError: boom  3"
