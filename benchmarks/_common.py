"""Small helpers shared by the benchmark scripts (timing, isolated environments)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence


def isolated_env(root: str) -> dict[str, str]:
    """Environment variables pointing every fiftyone-plugins setting inside ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYONE_")}
    env.update(
        FIFTYONE_PLUGINS_DIR=os.path.join(root, "plugins"),
        FIFTYONE_CONFIG_PATH=os.path.join(root, "config.json"),
        FIFTYONE_APP_CONFIG_PATH=os.path.join(root, "app_config.json"),
    )
    return env


def make_root() -> str:
    return tempfile.mkdtemp(prefix="fop-bench-")


def remove_root(root: str) -> None:
    shutil.rmtree(root, ignore_errors=True)


def write_plugins(plugins_dir: str, count: int, operators: int = 0) -> None:
    """Writes ``count`` plugins, each declaring ``operators`` trivial Python operators."""
    for i in range(count):
        folder = os.path.join(plugins_dir, "@bench", f"plugin{i:04d}")
        os.makedirs(folder, exist_ok=True)
        ops = [f"op{j}" for j in range(operators)]
        with open(os.path.join(folder, "fiftyone.yml"), "w") as f:
            f.write(f"name: '@bench/plugin{i:04d}'\nversion: 1.0.{i}\n")
            f.write("description: a benchmark plugin\nfiftyone:\n  version: '>=0.22'\n")
            if ops:
                f.write("operators:\n" + "".join(f"  - {op}\n" for op in ops))
        if ops:
            body = ["import fiftyone_plugins.operators as foo\n"]
            for op in ops:
                body.append(
                    f"class {op.upper()}(foo.Operator):\n"
                    f"    @property\n    def config(self):\n"
                    f"        return foo.OperatorConfig(name='{op}')\n"
                    f"    def execute(self, ctx):\n        return {{'ok': True}}\n"
                )
            body.append(
                "def register(p):\n" + "".join(f"    p.register({op.upper()})\n" for op in ops)
            )
            with open(os.path.join(folder, "__init__.py"), "w") as f:
                f.write("\n".join(body))


def time_command(argv: Sequence[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh processes (after one warm-up run)."""
    subprocess.run(argv, env=env, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def time_calls(fn: Callable[[], object], calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def describe(times: Sequence[float], unit: str = "ms") -> str:
    scale = {"ms": 1e3, "us": 1e6, "s": 1.0}[unit]
    med = statistics.median(times) * scale
    best = min(times) * scale
    return f"median {med:.2f} {unit} (best {best:.2f} {unit}, n={len(times)})"


def fiftyone_plugins_cli() -> list[str]:
    exe = shutil.which("fiftyone-plugins", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "fiftyone_plugins"]
