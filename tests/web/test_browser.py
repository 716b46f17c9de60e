"""The web app in a real headless Chromium: the token, each page, the operator browser's
search/form/validation/result, and a scheduled operation taken live by a real worker process.

With ``CI`` set, a missing chromium/chromedriver fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from _webtools import TOKEN, Browser, missing

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    why = missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {why}")
        pytest.skip(why)
    instance = Browser()
    yield instance
    instance.quit()


@pytest.fixture
def server(demo, tmp_path, monkeypatch):
    """The app on a free loopback port, its store a SQLite file a worker process can share."""
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", f"sqlite:///{tmp_path}/ops.db")
    from fiftyone_plugins.web.app import create_app
    from fiftyone_plugins.web.server import ServerThread

    with ServerThread(create_app(TOKEN), TOKEN) as running:
        yield running


@pytest.fixture
def page(browser, server):
    """The browser, signed in through the printed link (cookie set), at the Plugins page."""
    driver = browser.driver
    driver.delete_all_cookies()
    driver.get(server.url)
    assert driver.current_url == server.base + "/plugins"
    return driver


def _wait(driver, condition, timeout=8.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def _css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _visible_text(driver, selector, text, timeout=8.0):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    _wait(driver, ec.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text), timeout)


def test_without_the_token_nothing_shows(browser, server):
    driver = browser.driver
    driver.delete_all_cookies()
    driver.get(server.base + "/plugins")
    assert "token is required" in driver.find_element("tag name", "body").text
    driver.get(server.base + "/runs?token=wrong")
    assert "Wrong token" in driver.find_element("tag name", "body").text
    driver.get(server.url)
    assert "@web/demo" in _css(driver, "#plugins-table").text


def test_each_page_and_hostile_text(page, server):
    driver = page
    table = _css(driver, "#plugins-table").text
    assert "FOP_WEB_TOKEN: set" in table and "<script>window.__xss = 1</script>Evil" in table
    for link, marker in (("Operators", "#operator-list"), ("Runs", "#runs-table"),
                         ("Plugins", "#plugins-table")):  # fmt: skip
        driver.find_element("link text", link).click()
        _css(driver, marker)
    driver.get(server.base + "/operators/@evil/xss/inject")
    _visible_text(driver, "#fields", "<script>window.__xss = 3</script>")
    assert driver.execute_script("return window.__xss === undefined")
    driver.get(server.base + "/plugins/@evil/xss")
    assert driver.execute_script("return window.__xss === undefined")


def test_search_fill_validate_and_execute(page, server):
    from selenium.webdriver.common.keys import Keys

    driver = page
    driver.get(server.base + "/operators")
    search = _css(driver, "#operator-search")
    search.send_keys("hello to")
    shown = [
        li for li in driver.find_elements("css selector", "#operator-list li") if li.is_displayed()
    ]
    assert [li.find_element("css selector", ".op-uri").text for li in shown] == ["@web/demo/greet"]
    search.send_keys(Keys.ENTER)
    _wait(driver, lambda d: d.current_url.endswith("/operators/@web/demo/greet"))
    name = _wait(driver, lambda d: d.find_element("css selector", '[data-path="name"] input'))
    assert "*" in _css(driver, '[data-path="name"] .field-label').text  # required mark
    assert _css(driver, '[data-path="times"] input').get_attribute("value") == "1"  # default
    assert not _css(driver, "#schedule-button").get_attribute("hidden")  # may be delegated
    times = _css(driver, '[data-path="times"] input')
    times.clear()
    times.send_keys("9")
    _css(driver, "#execute-button").click()
    _visible_text(driver, '[data-path="name"] .field-error', "Required property")
    _visible_text(driver, '[data-path="times"] .field-error', "at most 5")
    name.send_keys("Ada")
    times.clear()
    times.send_keys("2")
    _css(driver, "#execute-button").click()
    _visible_text(driver, "#outputs", "Hello Ada Hello Ada")
    assert "reload_dataset" in _css(driver, "#triggers").text
    assert "greeted Ada" in _css(driver, "#logs").text
    assert _css(driver, '[data-path="name"] .field-error').text == ""


def test_every_form_type_and_a_dynamic_form(page, server, tmp_path):
    driver = page
    driver.get(server.base + "/operators/@web/demo/all_types")
    _wait(driver, lambda d: d.find_element("css selector", '[data-path="color"] select'))
    fields = _css(driver, "#fields")
    assert "Heading" in fields.find_element("css selector", ".markdown h3").text
    assert fields.find_element("css selector", ".markdown a").get_attribute("href") == (
        "https://example.com/"
    )
    assert "A warning" in fields.find_element("css selector", ".notice.warning").text
    color = fields.find_element("css selector", '[data-path="color"] select')
    assert color.find_element("css selector", "option:checked").text == "Blue"
    assert fields.find_element("css selector", '[data-path="mode"] input:checked')
    assert fields.find_element("css selector", '[data-path="flag"] input').is_selected()
    assert (
        fields.find_element("css selector", '[data-path="tags"] textarea').get_attribute("value")
        == "a\nb"
    )
    assert fields.find_element("css selector", '[data-path="nested.depth"] input')
    fancy = fields.find_element("css selector", '[data-path="fancy"] textarea')
    assert fancy.get_attribute("value") == '"shiny"'  # unknown view: a JSON field
    assert _css(driver, "#schedule-button").get_attribute("hidden") is not None
    note = tmp_path / "note.txt"
    note.write_text("uploaded text")
    fields.find_element("css selector", '[data-path="upload"] input').send_keys(str(note))
    time.sleep(0.3)  # the browser reads the file asynchronously
    _css(driver, "#execute-button").click()
    _visible_text(driver, "#result-json", '"color": "blue"')
    assert '"text": "uploaded text"' in _css(driver, "#result-json").text

    driver.get(server.base + "/operators/@web/demo/dynamic_form")
    more = _wait(driver, lambda d: d.find_element("css selector", '[data-path="more"] input'))
    assert not driver.find_elements("css selector", '[data-path="extra"]')
    more.click()
    _wait(driver, lambda d: d.find_elements("css selector", '[data-path="extra"] input'))
    assert _css(driver, '[data-path="more"] input').is_selected()  # value kept on re-resolve


def test_schedule_and_watch_a_worker_take_it_live(page, server, tmp_path):
    driver = page
    driver.get(server.base + "/operators/@web/demo/slow_count")
    schedule = _wait(driver, lambda d: d.find_element("css selector", "#schedule-button"))
    _wait(driver, lambda d: schedule.is_displayed())
    assert not _css(driver, "#execute-button").is_displayed()  # delegated only
    delay = driver.find_element("css selector", '[data-path="delay"] input')
    delay.clear()
    delay.send_keys("0.6")  # 1.8 s running: several live updates
    schedule.click()
    _visible_text(driver, "#scheduled", "Scheduled as delegated operation")
    op_id = _css(driver, "#scheduled a").text

    driver.get(server.base + "/runs")
    row = f'tr[data-id="{op_id}"]'
    _visible_text(driver, f'{row} [data-field="state"]', "queued")
    _wait(
        driver,
        lambda d: "on" in d.find_element("css selector", "#live-status").get_attribute("class"),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "fiftyone_plugins", "delegated", "launch", "--once", "-q",
         "--poll-interval", "0.2"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _visible_text(driver, f'{row} [data-field="state"]', "running", timeout=15)
        _visible_text(driver, f'{row} [data-field="progress"]', "step", timeout=5)
        _visible_text(driver, f'{row} [data-field="state"]', "completed", timeout=10)
        assert _css(driver, f'{row} [data-field="worker"]').text
    finally:
        assert worker.wait(20) == 0

    _css(driver, f"{row} input.select").click()
    _css(driver, 'button[data-run-action="rerun"]').click()
    _wait(
        driver,
        lambda d: len(d.find_elements("css selector", "#runs-table tbody tr[data-id]")) == 2,
    )
    _css(driver, f"{row} input.select").click()
    _css(driver, 'button[data-run-action="delete"]').click()
    _wait(driver, lambda d: d.switch_to.alert).accept()
    _wait(driver, lambda d: not d.find_elements("css selector", row))
    assert len(driver.find_elements("css selector", "#runs-table tbody tr[data-id]")) == 1
    # the rerun's own page
    driver.find_element("css selector", "#runs-table tbody tr[data-id] a").click()
    _visible_text(driver, "#run-state", "queued")
    assert '"steps": 3' in driver.find_element("css selector", "pre.json").text


def test_install_a_plugin_and_disable_it(page, server, tmp_path):
    source = tmp_path / "src" / "plugins" / "fresh"
    source.mkdir(parents=True)
    (source / "fiftyone.yml").write_text('name: "@new/fresh"\nversion: 2.0.0\n')
    driver = page
    _css(driver, "#install-card summary").click()
    _css(driver, "#install-source").send_keys(str(tmp_path / "src"))
    _css(driver, "#install-form button[type=submit]").click()
    _visible_text(driver, "#install-rows", "installed")
    assert "@new/fresh" in _css(driver, "#install-rows").text
    _visible_text(driver, "#install-status", "Installed 1 plugin(s)")
    driver.get(server.base + "/plugins/@new/fresh")
    _css(driver, 'button[data-plugin-action="disable"]').click()
    _wait(driver, lambda d: d.find_elements("css selector", 'button[data-plugin-action="enable"]'))
    import fiftyone_plugins as fop

    assert not fop.is_plugin_enabled("@new/fresh")
