"""The HTML report in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by python3-selenium; scripts/deps.sh --dev installs them)
opens the report `allied5g report` wrote, offline, and the test fails on any console
message, on an image that did not load, or on an interactive figure that was not
drawn (the nation selector, the time slider, hover values). Skipped when Chromium or
Selenium is missing."""
import shutil
import tempfile

import pytest

from conftest import run

SCEN = """start: 2019Q1
steps: 8
replicates: 50
nations:
  - {code: GBR, name: United Kingdom, blocs: [five_eyes], high_risk_share: 0.4, review_rate: 0.5, influence: 2}
  - {code: DEU, name: Germany, blocs: [eu], high_risk_share: 0.6, influence: 2}
  - {code: FRA, name: France, blocs: [eu], high_risk_share: 0.4}
  - {code: USA, name: United States, blocs: [five_eyes], policy: ban, review_rate: 0}
"""
CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="python3-selenium not installed")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="chromium and chromium-driver not installed "
                                "(bash scripts/deps.sh --dev)")


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="a5-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--window-size=1200,900"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_page_load_timeout(120)
    d.set_script_timeout(120)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_report_page_in_chromium(tmp_path, browser):
    (tmp_path / "s.yaml").write_text(SCEN)
    run("run", tmp_path / "s.yaml", "-o", tmp_path / "r.h5", "--quiet")
    p = run("report", tmp_path / "r.h5", "-o", tmp_path / "rep")
    assert p.stdout.strip().endswith("index.html")
    browser.get((tmp_path / "rep" / "index.html").as_uri())
    # both interactive figures drawn (plotly adds its SVG), every image loaded
    drawn = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const t0 = Date.now();
        (function poll() {
          const figs = [...document.querySelectorAll('.a5-figure')];
          const ok = figs.length == 2 && figs.every(f => f.querySelector('.main-svg'));
          if (ok || Date.now() - t0 > 60000) done(figs.map(f => [f.id, !!f.querySelector('.main-svg')]));
          else setTimeout(poll, 100);
        })();""")
    assert drawn == [["fig-explorer", True], ["fig-at-time", True]], drawn
    imgs = browser.execute_script(
        "return [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
    assert len(imgs) >= 4 and all(ok for _, ok in imgs), imgs
    # the nation selector lists every nation by name; the time slider every quarter
    menu = browser.execute_script(
        "return document.getElementById('fig-explorer').layout.updatemenus[0].buttons.map(b => b.label)")
    assert menu == ["United Kingdom", "Germany", "France", "United States"]
    steps = browser.execute_script(
        "return document.getElementById('fig-at-time').layout.sliders[0].steps.map(s => s.label)")
    assert steps[0] == "2019Q1" and steps[-1] == "2020Q4" and len(steps) == 8
    assert browser.find_elements("css selector", "#fig-explorer .updatemenu-container")
    assert browser.find_elements("css selector", "#fig-at-time .slider-container")
    # choose Germany in the selector and an earlier date on the slider: the figures follow
    shown = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const ex = document.getElementById('fig-explorer'), at = document.getElementById('fig-at-time');
        const b = ex.layout.updatemenus[0].buttons[1];
        Plotly.update(ex, b.args[0], b.args[1]).then(() => {
          const s = at.layout.sliders[0].steps[0];
          return Plotly.restyle(at, s.args[0]);
        }).then(() => {
          Plotly.Fx.hover(at, [{curveNumber: 0, pointNumber: 0}]);
          const hover = at.querySelector('.hoverlayer').textContent;
          done([ex.layout.title.text, ex.data.filter(t => t.visible === true).map(t => t.meta),
                at.data[0].x[0], hover]);
        });""")
    title, visible, first_open, hover = shown
    assert title.endswith("Germany") and visible == ["DEU"] * 3
    import xarray as xr
    with xr.open_dataset(tmp_path / "r.h5") as ds:     # the UK's P(open) in 2019Q1
        want = float(ds.policy_share.isel(point=0, time=0).sel(nation="GBR", option="open"))
    assert first_open == pytest.approx(want)
    assert "United Kingdom" in hover and "90 %" in hover
    logs = browser.get_log("browser")
    assert logs == [], logs
