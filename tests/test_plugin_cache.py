"""Parsed manifests remembered across processes: a listing after nothing changed parses none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

PROBE = """
import sys
import fiftyone_plugins as fop
print(",".join(f"{p.name}={p.version}" for p in fop.list_plugins()))
print("yaml" in sys.modules)
"""


def probe() -> tuple[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=dict(os.environ), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    names, parsed = done.stdout.split("\n")[:2]
    return names, parsed == "True"


def test_unchanged_manifests_are_not_parsed_again(env):
    for i in range(3):
        env.write_plugin(f"p{i}", f"name: '@t/p{i}'\nversion: '1.{i}'\n")
    time.sleep(0.15)  # past the racy-timestamp window: fresh files are never remembered
    first, parsed = probe()
    assert first == "@t/p0=1.0,@t/p1=1.1,@t/p2=1.2" and parsed
    again, parsed = probe()
    assert again == first and not parsed  # YAML was not even imported
    cache = json.loads((env.config_path.parent / "cache" / "manifests.json").read_text())
    assert len(cache["entries"]) == 3


def test_an_edited_manifest_is_parsed_and_validated_again(env):
    folder = env.write_plugin("p", "name: '@t/p'\nversion: '1.0'\n")
    time.sleep(0.15)
    probe()
    (folder / "fiftyone.yml").write_text("name: '@t/p'\nversion: '2.0'\n")
    names, parsed = probe()
    assert names == "@t/p=2.0" and parsed
    (folder / "fiftyone.yml").write_text("name: 'no slash ok'\nversion: [not, a, string]\n")
    names, _ = probe()
    assert names == ""  # the invalid manifest is reported, never served from the cache


def test_the_cache_can_be_turned_off(env, monkeypatch):
    env.write_plugin("p", "name: '@t/p'\n")
    time.sleep(0.15)
    monkeypatch.setenv("FIFTYONE_PLUGINS_CACHE_DIR", "off")
    probe()
    assert probe()[1]  # parsed every time
    assert not (env.config_path.parent / "cache").exists()
