"""The published site, built from the committed leaderboards and checked in headless Chromium.

Skipped with a reason when Debian's chromium + chromium-driver or selenium are absent (CI installs
them in .ci/run). Screenshots go to .ci/artifacts/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = REPO / ".ci" / "artifacts"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no chromium / chromedriver (apt install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from evalkit.site import build_site

    out = tmp_path_factory.mktemp("site")
    build_site(out, REPO / "leaderboards")
    return out


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1400,2200",
        "--disable-dev-shm-usage",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def _open(browser, page: Path) -> None:
    browser.get(page.as_uri())
    browser.get_log("browser")  # drop anything from before this page


def _visible_rows(browser, css: str) -> list:
    return [r for r in browser.find_elements("css selector", f"{css} tbody tr") if r.is_displayed()]


def test_every_page_renders_tables_and_plots(site: Path, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(site.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "recon.html", "tokbench-mini.html"}
    for page in pages:
        browser.get(page.as_uri())
        tables = browser.find_elements("css selector", "table")
        assert tables, f"{page.name}: no table"
        for table in tables:
            assert table.find_elements("css selector", "tbody tr"), f"{page.name}: empty table"
        images = browser.find_elements("css selector", "img")
        for img in images:
            width = browser.execute_script("return arguments[0].naturalWidth", img)
            assert width > 0, f"{page.name}: plot {img.get_attribute('src')} did not load"
        if page.name != "index.html":
            assert images, f"{page.name}: no plot"
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"{page.name}: console errors {errors}"
        browser.save_screenshot(str(ARTIFACTS / f"site-{page.stem}.png"))


def test_sorting_a_column_reorders_rows(site: Path, browser) -> None:
    browser.get((site / "recon.html").as_uri())
    headers = browser.find_elements("css selector", "table.main thead th")
    psnr = next(i for i, h in enumerate(headers) if h.text.strip() == "psnr")

    def column() -> list[float]:
        rows = _visible_rows(browser, "table.main")
        return [
            float(r.find_elements("css selector", "td")[psnr].get_attribute("data-v")) for r in rows
        ]

    headers[psnr].click()
    ascending = column()
    assert ascending == sorted(ascending) and len(ascending) > 2
    headers[psnr].click()
    assert column() == sorted(ascending, reverse=True)


def test_recon_rate_distortion_and_tokbench_bins(site: Path, browser) -> None:
    browser.get((site / "recon.html").as_uri())
    alts = {i.get_attribute("alt") for i in browser.find_elements("css selector", "img")}
    assert "rate-distortion-psnr" in alts
    svg = (site / "plots" / "recon-rate-distortion-psnr.svg").read_text()
    for curve in ("jpeg", "webp", "taef2"):
        assert curve in svg
    browser.get((site / "tokbench-mini.html").as_uri())
    alts = {i.get_attribute("alt") for i in browser.find_elements("css selector", "img")}
    assert {"bins-256", "bins-512", "bins-1024"} <= alts


def test_incomplete_rows_hidden_until_toggled(site: Path, browser, tmp_path: Path) -> None:
    import pandas as pd

    from evalkit.site import build_site

    frame = pd.read_parquet(REPO / "leaderboards" / "recon.parquet")
    extra = frame[frame["model"] == frame["model"].iloc[0]].copy()
    extra["run_id"] = "limited"
    extra["complete"] = False
    extra["value"] = extra["value"] + 1.0
    if "complete" in frame.columns:
        frame["complete"] = frame["complete"].astype(bool)
    else:
        frame["complete"] = True
    board = tmp_path / "boards"
    board.mkdir()
    pd.concat([frame, extra]).to_parquet(board / "recon.parquet", index=False)
    build_site(tmp_path / "out", board)
    browser.get((tmp_path / "out" / "recon.html").as_uri())
    shown = len(_visible_rows(browser, "table.main"))
    browser.find_element("id", "show-all").click()
    assert len(_visible_rows(browser, "table.main")) == shown + 1
