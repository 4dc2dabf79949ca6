"""The HTML report in a real headless Chromium (selenium + chromedriver).

Skipped, with the reason, when selenium, chromium or chromedriver is absent
(Debian: ``apt-get install -y chromium chromium-driver``; ``pip install selenium``).
Set ``PORTABENCH_SCREENSHOT_DIR`` to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from portabench.analysis import build_tables
from portabench.report import compare, write_html
from portabench.store import Store
from report_fixtures import build_demo_store

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome")) if p), None
)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="headless browser test needs chromium and chromedriver (apt-get install -y chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    with Store(build_demo_store(tmp / "demo.sqlite", n_functions=40)) as s:
        tables = build_tables(s)
        cmp = compare("torch-cpu", "torch-new-cpu", store=s)
    return write_html(tables, tmp / "report", comparison=cmp)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _visible_rows(driver) -> int:
    return driver.execute_script(
        "return Array.prototype.filter.call(document.querySelectorAll('#function-table tbody tr'),"
        " function (r) { return r.offsetParent !== null; }).length;"
    )


def test_report_in_headless_chromium(report, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(report.resolve().as_uri())
    assert browser.title == "portabench report"

    # no console errors
    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == [], severe

    # every plot decoded and rendered
    images = browser.find_elements(By.CSS_SELECTOR, "img.plot")
    assert len(images) >= 4
    for img in images:
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
        assert img.get_attribute("src").startswith("data:image/png;base64,")

    # the search box filters the function table
    total = len(browser.find_elements(By.CSS_SELECTOR, "#function-table tbody tr"))
    assert _visible_rows(browser) == total > 10
    box = browser.find_element(By.ID, "function-search")
    box.send_keys("fn1")  # torch.fn10 .. torch.fn19
    assert _visible_rows(browser) == 10
    assert "10 of" in browser.find_element(By.ID, "function-count").text
    box.send_keys("3")  # torch.fn13
    assert _visible_rows(browser) == 1
    box.clear()
    box.send_keys("no-such-function")
    assert _visible_rows(browser) == 0
    browser.execute_script(
        "var i = document.getElementById('function-search'); i.value = ''; i.dispatchEvent(new Event('input'));"
    )
    assert _visible_rows(browser) == total
    browser.find_element(By.ID, "failing-only").click()
    assert 0 < _visible_rows(browser) < total
    browser.find_element(By.ID, "failing-only").click()

    # a failing status links to its failing cases' messages on the same page
    link = browser.find_element(By.CSS_SELECTOR, "#function-table a.badge")
    target = link.get_attribute("href").split("#", 1)[1]
    detail = browser.find_element(By.ID, target)
    assert "failed" in detail.text or "Error" in detail.text or "mismatch" in detail.text or detail.text

    # screenshots (top of the page and the functions section)
    out = Path(os.environ.get("PORTABENCH_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0);")
    assert browser.save_screenshot(str(out / "report-top.png"))
    browser.execute_script("document.getElementById('functions').scrollIntoView();")
    assert browser.save_screenshot(str(out / "report-functions.png"))
    assert (out / "report-top.png").stat().st_size > 10_000
    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == [], severe


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory) -> Path:
    """A report with real-sized content: long numerics, many dtypes, long column labels."""
    from report_fixtures import add_run, case

    tmp = tmp_path_factory.mktemp("wide")
    numerics: dict[str, object] = {
        f"cuda.matmul.allow_{k}_reduced_precision_reduction": True for k in ("bf16", "fp16", "tf32", "fp8")
    }
    numerics.update(
        {
            "float32_matmul_precision": "highest",
            "deterministic_algorithms": False,
            "num_threads": 2,
            "cudnn.benchmark": False,
            "cudnn.deterministic": False,
            "cuda_version": None,
        }
    )
    dts = ["float32", "float16", "bfloat16", "float64", "int64", "int32", "bool", "complex64", "complex128", "uint8"]
    with Store(tmp / "wide.sqlite") as s:
        for dev in ("cpu", "cuda:0", "xla:0"):
            fns = [f"torch.nn.functional.scaled_dot_product_attention_{i}" for i in range(12)]
            claimed = {f: {dev.split(":")[0]: dts} for f in fns}
            add_run(
                s,
                [case(f, dtype=d) for f in fns for d in dts[:7]],
                device=dev,
                numerics=numerics,
                device_name={"cpu": "AMD EPYC 9654 96-Core Processor", "cuda:0": "NVIDIA H100 80GB HBM3"}.get(
                    dev, "TPU v5 lite"
                ),
                host="a-rather-long-host-name.example.internal",
                claimed=claimed,
                version="2.13.0+cu126",
            )
        tables = build_tables(s)
    return write_html(tables, tmp / "report")


def test_environment_and_dtype_tables_are_not_cramped(wide_report, browser):
    """No cell of the environment or dtype table cuts its content, headers stay on one line, and
    the environment's run / column cells are not squeezed into a word per line."""
    browser.get(wide_report.resolve().as_uri())
    assert browser.execute_script("return document.querySelectorAll('#environment-table tbody tr').length") == 3
    assert browser.execute_script("return document.querySelectorAll('#dtype-table tbody tr').length") > 10
    clipped = browser.execute_script(
        "var out = [];"
        "document.querySelectorAll('#environment-table th, #environment-table td, #dtype-table th, #dtype-table td')"
        ".forEach(function (c) { if (c.scrollWidth > c.clientWidth + 1) {"
        " out.push(c.textContent.trim().slice(0, 40)); } });"
        "return out;"
    )
    assert clipped == []
    tall_heads = browser.execute_script(
        "var out = []; document.querySelectorAll('#dtype-table thead th').forEach(function (c) {"
        " var lh = parseFloat(getComputedStyle(c).lineHeight) || 20;"
        " if (c.clientHeight > 2.2 * lh) { out.push(c.textContent); } }); return out;"
    )
    assert tall_heads == []
    squeezed = browser.execute_script(
        "var out = [];"
        " document.querySelectorAll('#environment-table tbody td.short, #environment-table tbody td.nowrap')"
        ".forEach(function (c) { var r = document.createRange(); r.selectNodeContents(c.firstElementChild || c);"
        " var lines = new Set(Array.prototype.map.call(r.getClientRects(),"
        " function (x) { return Math.round(x.top); }));"
        " if (lines.size > 3) { out.push(c.textContent.trim().slice(0, 40)); } }); return out;"
    )
    assert squeezed == []
