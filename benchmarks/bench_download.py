"""Download speed: a GitHub repository of many plugins, served from 127.0.0.1.

Run: python benchmarks/bench_download.py [--plugins 50] [--files 20] [--runs 5]

A fake GitHub (the one the tests use) serves a repository zipball holding ``--plugins``
plugins of ``--files`` small files each, plus one 5 MB asset; ``download_plugin`` installs
all of them into an empty plugins dir (fresh each run), then again with ``overwrite=True``
over the installed copies. What it measures is our work (transfer, safe extraction, manifest
validation, atomic moves), since the network is the loopback interface.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from _common import describe, isolated_env, make_root, remove_root, time_calls  # noqa: E402
from _download_server import FakeGitHub, TestServer, plugin_files  # noqa: E402


def repository(plugins: int, files: int) -> dict[str, str | bytes]:
    content: dict[str, str | bytes] = {"assets/model.bin": os.urandom(5 * 1024 * 1024)}
    for i in range(plugins):
        folder = f"plugins/p{i:03d}"
        content.update(plugin_files(f"@bench/p{i:03d}", folder))
        for j in range(files):
            content[f"{folder}/src/module{j:02d}.py"] = f"VALUE = {j}\n" * 40
    return content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugins", type=int, default=50)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    root = make_root()
    server = TestServer()
    try:
        os.environ.update(isolated_env(root))
        github = FakeGitHub(server)
        os.environ["FIFTYONE_GITHUB_URL"] = github.web_url
        os.environ["FIFTYONE_GITHUB_API_URL"] = github.api_url
        github.add_repo("bench/many", repository(args.plugins, args.files))

        from fiftyone_plugins import download_plugin

        plugins_dir = os.environ["FIFTYONE_PLUGINS_DIR"]

        def fresh_install() -> None:
            shutil.rmtree(plugins_dir, ignore_errors=True)
            installed = download_plugin("bench/many")
            assert len(installed) == args.plugins, installed

        def overwrite() -> None:
            download_plugin("bench/many", overwrite=True)

        label = f"{args.plugins} plugins x {args.files + 2} files + 5 MB asset"
        for kind, install in (("fresh", fresh_install), ("overwrite", overwrite)):
            times = time_calls(install, args.runs)
            print(f"download_plugin, {label}, {kind:9s}  {describe(times)}")
    finally:
        server.close()
        remove_root(root)


if __name__ == "__main__":
    main()
