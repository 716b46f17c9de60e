"""Takes the screenshots of docs/web.md with headless Chromium (Debian's chromium and
chromium-driver packages) driven by selenium.

    python docs/screenshots/make_screenshots.py [OUTDIR]

Everything happens in a temporary folder: a plugins dir holding the example and demo
plugins, a SQLite store with a few operations in every state, the app on a free port.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
)  # fmt: skip
TOKEN = "screenshots"


def _setup(tmp: pathlib.Path) -> None:
    plugins = tmp / "plugins"
    shutil.copytree(ROOT / "examples" / "plugins" / "hello", plugins / "hello")
    shutil.copytree(ROOT / "tests" / "fixtures" / "plugins" / "webdemo", plugins / "webdemo")
    os.environ.update(
        {
            "FIFTYONE_PLUGINS_DIR": str(plugins),
            "FIFTYONE_CONFIG_PATH": str(tmp / "config.json"),
            "FIFTYONE_APP_CONFIG_PATH": str(tmp / "app_config.json"),
            "FIFTYONE_DELEGATED_OPERATION_STORE": f"sqlite:///{tmp}/ops.db",
            "FOP_WEB_TOKEN": "a-secret-value",
        }
    )


def _operations() -> str:
    import fiftyone_plugins.operators as foo

    service = foo.DelegatedOperationService()
    for name in ("Ada", "Grace", "Edsger"):
        service.queue_operation(
            "@web/demo/greet", label="Greet someone", context={"params": {"name": name}}
        )
    service.queue_operation("@web/demo/fails", label="Always fails", context={"params": {}})
    service.execute_queued_operations()
    busy = service.queue_operation(
        "@web/demo/slow_count", label="Slow count", context={"params": {"steps": 10}}
    )
    service.set_running(busy.id, worker_id="worker-1")
    service.set_progress(busy.id, 0.4, "step 4 of 10", worker_id="worker-1")
    service.queue_operation(
        "@examples/hello/sum_slowly", label="Sum slowly", context={"params": {"numbers": [1, 2]}}
    )
    failed = service.list_operations(run_state="failed")[0]
    return str(failed.id)


def _shoot(driver, name: str, outdir: pathlib.Path) -> None:
    # the window is taller than its viewport: grow it until the whole page fits
    for _ in range(3):
        height = driver.execute_script("return document.documentElement.scrollHeight")
        inner = driver.execute_script("return window.innerHeight")
        if inner >= height or inner >= 1800:
            break
        size = driver.get_window_size()
        driver.set_window_size(1280, min(size["height"] + height - inner + 8, 1900))
    driver.save_screenshot(str(outdir / f"{name}.png"))
    driver.set_window_size(1280, 900)
    print("wrote", outdir / f"{name}.png")


def main() -> int:
    outdir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="fop-shots-"))
    profile = tempfile.mkdtemp(prefix="fop-chromium-")
    try:
        _setup(tmp)
        failed_id = _operations()
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        from fiftyone_plugins.web.app import create_app
        from fiftyone_plugins.web.server import ServerThread

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)

        def wait_for(selector: str, text: str = "") -> None:
            located = (By.CSS_SELECTOR, selector)
            condition = (
                ec.text_to_be_present_in_element(located, text)
                if text
                else ec.presence_of_element_located(located)
            )
            WebDriverWait(driver, 10).until(condition)

        try:
            with ServerThread(create_app(TOKEN), TOKEN) as server:
                base = server.base
                driver.get(server.url)
                _shoot(driver, "plugins", outdir)
                driver.get(base + "/plugins/@web/demo")
                _shoot(driver, "plugin", outdir)
                driver.get(base + "/operators")
                _shoot(driver, "operators", outdir)
                driver.get(base + "/operators/@web/demo/greet")
                wait_for('[data-path="name"] input')
                driver.find_element(By.CSS_SELECTOR, "#execute-button").click()
                wait_for('[data-path="name"] .field-error', "Required")
                _shoot(driver, "operator-validation", outdir)
                driver.find_element(By.CSS_SELECTOR, '[data-path="name"] input').send_keys("Ada")
                driver.find_element(By.CSS_SELECTOR, "#execute-button").click()
                wait_for("#outputs", "Hello Ada")
                _shoot(driver, "operator-result", outdir)
                driver.get(base + "/operators/@web/demo/all_types")
                wait_for('[data-path="color"] select')
                _shoot(driver, "operator-form-types", outdir)
                driver.get(base + "/runs")
                wait_for("#live-status.on")
                _shoot(driver, "runs", outdir)
                driver.get(base + f"/runs/{failed_id}")
                _shoot(driver, "run", outdir)
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
