"""The documentation site (``docs/``, ``make docs``): every public name has a docstring,
the site builds with warnings as errors, every ``>>>`` block of its pages passes as a
doctest, no local link or image points at a missing file, and the index and performance
pages load in headless Chromium with their title and images (screenshots are kept in the
test's temporary folder).

The build runs offline (``CZARR_DOCS_INTERSPHINX=0``: CI has no network for the
intersphinx inventories). Chromium is the Debian package ``.ci/run`` installs; without it
the browser test is skipped on a developer's machine and fails in CI.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import importlib.util
import inspect
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

import czarr

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ["index", "tutorial", "stores", "codecs", "migration", "performance", "capi",
         "architecture", "changelog", "api/index", "api/czarr"]


def _need(module: str) -> None:
    """Skip without ``module`` (the ``docs``/``test`` extras have it), except in CI."""
    if os.environ.get("CI"):
        importlib.import_module(module)
    else:
        pytest.importorskip(module)


def _apigen():
    spec = importlib.util.spec_from_file_location("czarr_docs_apigen", DOCS / "apigen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ docstrings

def _missing_docstrings() -> list[str]:
    apigen = _apigen()
    missing = []
    for name in ["czarr", *apigen.PUBLIC_MODULES]:
        mod = importlib.import_module(name)
        if not (mod.__doc__ or "").strip():
            missing.append(name)
        for attr in apigen.module_names(mod):
            obj = getattr(mod, attr)
            full = f"{name}.{attr}"
            if inspect.ismodule(obj):
                continue
            if not apigen.is_documented_object(obj):
                if full not in apigen.DATA:
                    missing.append(f"{full} (a value: describe it in docs/apigen.py DATA)")
                continue
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(full)
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if member.startswith("_"):
                        continue
                    if isinstance(value, (property, staticmethod, classmethod)) or callable(value):
                        # inspect.getdoc finds the docstring a method overrides, as autodoc does
                        if not (inspect.getdoc(getattr(obj, member)) or "").strip():
                            missing.append(f"{obj.__module__}.{obj.__qualname__}.{member}")
    return sorted(set(missing))


def test_every_public_name_has_a_docstring():
    assert _missing_docstrings() == []


def test_docstring_check_catches_a_missing_one(monkeypatch):
    def undocumented():
        pass

    undocumented.__module__ = "czarr.config"
    monkeypatch.setattr(czarr.config, "undocumented", undocumented, raising=False)
    monkeypatch.setattr(czarr.config, "__all__", [*czarr.config.__all__, "undocumented"])
    monkeypatch.setattr(czarr.config, "LIMIT", 3, raising=False)
    monkeypatch.setattr(czarr.config, "__all__", [*czarr.config.__all__, "LIMIT"])
    assert _missing_docstrings() == [
        "czarr.config.LIMIT (a value: describe it in docs/apigen.py DATA)",
        "czarr.config.undocumented",
    ]


def test_api_pages_cover_every_public_name(tmp_path):
    apigen = _apigen()
    apigen.write_api_pages(tmp_path)
    text = "\n".join(p.read_text() for p in tmp_path.glob("*.rst"))
    top = (tmp_path / "czarr.rst").read_text()
    for name in czarr.__all__:
        obj = getattr(czarr, name)
        if inspect.ismodule(obj):
            assert f":mod:`{obj.__name__}`" in top
        elif f"czarr.{name}" in apigen.PUBLIC_MODULES:  # czarr.rechunk, the function
            assert f":obj:`czarr.{name}.{name}`" in top
        elif apigen.is_documented_object(obj):
            assert f"\n   {name}\n" in top, name
        else:
            assert f".. py:data:: czarr.{name}\n" in top, name
    storage = (tmp_path / "czarr.storage.rst").read_text()
    assert "\n   Store\n" in storage and "\n   getitems\n" in storage
    # a name the top level exports is documented there only, and linked from its module
    assert "\n   DirectoryStore\n" not in storage and ":obj:`czarr.DirectoryStore`" in storage
    assert text.count(".. automodule::") == len(apigen.PUBLIC_MODULES) + 1


# ------------------------------------------------------------------ the plot module

def _plot_module():
    spec = importlib.util.spec_from_file_location("czarr_bench_plot",
                                                  ROOT / "benchmarks" / "plot.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ROWS = [
    ("full read, 1 thread(s) [lz4]", "s", {"czarr": (0.2, 134.0), "zarr-python": (0.5, 134.0),
                                           "h5py": (0.1, 134.0)}),
    ("full read, 2 thread(s) [lz4]", "s", {"czarr": (0.1, 134.0), "zarr-python": (0.3, 134.0)}),
    ("2000 random single-element reads", "us/read", {"czarr": (20.0, None),
                                                      "tensorstore": (30.0, None)}),
    ("ceiling: c-blosc decode of the same chunks, 2 thread(s)", "s", {"c-blosc": (0.05, 134.0)}),
    ("ceiling: memcpy of the same bytes", "s", {"memcpy": (0.02, 134.0)}),
]


def test_plot_ratios_and_json_round_trip(tmp_path):
    plot = _plot_module()
    groups = dict(plot.ratios(ROWS))
    assert list(groups) == [w for w, _, _ in ROWS[:3]]
    assert groups["full read, 1 thread(s) [lz4]"] == pytest.approx(
        {"czarr": 1.0, "zarr-python": 2.5, "h5py": 0.5, "memcpy": 0.1})
    assert groups["full read, 2 thread(s) [lz4]"] == pytest.approx(
        {"czarr": 1.0, "zarr-python": 3.0, "c-blosc": 0.5})
    assert groups["2000 random single-element reads"] == pytest.approx(
        {"czarr": 1.0, "tensorstore": 1.5})
    plot.save_json(ROWS, tmp_path / "r.json", versions="czarr 0.1.0")
    rows, run = plot.load_json(tmp_path / "r.json")
    assert rows == ROWS and run["versions"] == "czarr 0.1.0" and run["machine"]
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a compare.py results file"):
        plot.load_json(tmp_path / "bad.json")
    table = plot.rst_table(ROWS)
    assert "   * - full read, 1 thread(s) [lz4]\n     - 1.00\n     - 2.50\n" in table


def test_plot_image(tmp_path):
    _need("matplotlib")
    plot = _plot_module()
    written = plot.save(ROWS, str(tmp_path / "r.json"), str(tmp_path / "plots"), "czarr 0.1.0")
    assert [p.name for p in written] == ["r.json", "compare.png", "compare.svg"]
    png = _read_png(tmp_path / "plots" / "compare.png")
    # czarr's bars are drawn in their colour, and so are the peers'
    assert _pixels_near(png, plot.LIBRARIES["czarr"]) > 200
    assert _pixels_near(png, plot.LIBRARIES["zarr-python"]) > 200
    assert "<svg" in (tmp_path / "plots" / "compare.svg").read_text()[:500]
    with pytest.raises(ValueError, match="no workload has a czarr time"):
        plot.plot_rows([("x", "s", {"h5py": 1.0})], tmp_path / "none.png")


def test_committed_plot_matches_its_results_file():
    plot = _plot_module()
    rows, run = plot.load_json(DOCS / "_static" / "compare.json")
    libs = {lib for _, r in plot.ratios(rows) for lib in r}
    assert {"czarr", "zarr-python", "tensorstore", "h5py", "c-blosc", "memcpy"} <= libs
    assert "--plot" in run["command"] and run["machine"]
    for name in ("compare.png", "compare.svg"):
        assert (DOCS / "_static" / name).stat().st_size > 10_000
    # the README shows the same image
    assert "](docs/_static/compare.png)" in (ROOT / "README.md").read_text()


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def _pixels_near(rgb: np.ndarray, colour: str, tol: int = 12) -> int:
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - target).max(axis=-1) <= tol).sum())


# ------------------------------------------------------------------ the built site

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built as ``make docs`` builds it, into a temporary folder."""
    for module in ("sphinx", "pydata_sphinx_theme", "myst_parser", "sphinx_copybutton"):
        _need(module)
    out = tmp_path_factory.mktemp("docs")
    proc = _sphinx("html", out)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr, proc.stderr[-4000:]
    return out


def _sphinx(builder: str, out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CZARR_DOCS_INTERSPHINX="0",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder,
         "-d", str(out / "doctrees"), str(DOCS), str(out / builder)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_site_builds_every_page(site):
    html = site / "html"
    for page in PAGES:
        assert (html / f"{page}.html").stat().st_size > 1000, page
    assert (html / "api" / "generated" / "czarr.Array.html").is_file()
    assert (html / "_static" / "compare.png").stat().st_size > 10_000
    index = (html / "index.html").read_text()
    assert "<title>" in index and "pydata" in index
    array = (html / "api" / "generated" / "czarr.Array.html").read_text()
    assert 'id="czarr.Array.get_orthogonal_selection"' in array  # members documented
    # ARCHITECTURE.md and CHANGELOG.md are included, not copied
    assert "Two formats, one engine" in (html / "architecture.html").read_text()
    assert "Documentation" in (html / "changelog.html").read_text()


@pytest.mark.slow
def test_doctests_of_every_page_pass(site):
    proc = _sphinx("doctest", site)  # reuses the html build's parsed pages
    report = (site / "doctest" / "output.txt").read_text()
    assert proc.returncode == 0, report[-4000:] + proc.stderr[-2000:]
    assert "0 failures in tests" in report and "0 failures in setup code" in report
    # every page with >>> blocks ran (each is a document in the report)
    for page in ("tutorial", "stores", "codecs", "capi"):
        assert f"Document: {page}" in report, page
    ran = int(re.findall(r"^\s*(\d+) tests$", report, re.M)[-1])
    assert ran >= 120, report[-500:]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for attr in ("href", "src"):
            if attrs.get(attr) and not (tag == "link" and attrs.get("rel") in ("preconnect",)):
                self.links.append(attrs[attr])
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_local_links(html: Path) -> list[str]:
    """Every href/src of every page that points inside the site at a file (or an anchor
    of a page) that does not exist."""
    # pages, not the theme's templates that sit in _static
    pages = {p: _parse(p) for p in html.rglob("*.html") if "_static" not in p.parts}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:")):
                continue  # external, or an anchor of this page (checked below)
            target = (page.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(html)}: {link}")
            elif parts.fragment and target in pages and parts.fragment not in pages[target].ids:
                broken.append(f"{page.relative_to(html)}: {link} (no such anchor)")
        for link in parsed.links:
            if link.startswith("#") and len(link) > 1 and unquote(link[1:]) not in parsed.ids:
                broken.append(f"{page.relative_to(html)}: {link} (no such anchor)")
    return broken


@pytest.mark.slow
def test_no_broken_local_links(site, tmp_path):
    html = site / "html"
    assert broken_local_links(html) == []
    # the crawler does see a broken one
    bad = tmp_path / "site"
    shutil.copytree(html / "_static", bad / "_static")
    (bad / "page.html").write_text('<a href="missing.html">x</a><img src="_static/compare.png">'
                                   '<a href="#nowhere">y</a><p id="here"></p><a href="#here">z</a>')
    assert broken_local_links(bad) == ["page.html: missing.html",
                                       "page.html: #nowhere (no such anchor)"]


# ------------------------------------------------------------------ headless Chromium

def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (.ci/run installs the Debian package)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


class Browser:
    """Headless Chromium driven over the DevTools protocol (a websocket, through aiohttp):
    one browser for every page, each loaded until its ``load`` event and its images
    decoded, then inspected with JavaScript and photographed."""

    def __init__(self, chromium: str, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--hide-scrollbars", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):  # Chromium writes its port there once it listens
            if port_file.is_file() and len(port_file.read_text().split()) == 2:
                break
            time.sleep(0.1)
        else:
            self.close()
            pytest.fail("Chromium did not start its DevTools server")
        self.port = int(port_file.read_text().split()[0])

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def visit(self, url: str, screenshot: Path) -> dict:
        """Load ``url``; return its title and, per image, its src, whether it loaded and
        its natural width; save a screenshot of the window."""
        return asyncio.run(asyncio.wait_for(self._visit(url, screenshot), 60))

    async def _visit(self, url: str, screenshot: Path) -> dict:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{self.port}/json/list") as r:
                target = next(t for t in await r.json() if t["type"] == "page")
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                ids = itertools.count(1)

                async def call(method: str, **params):
                    n = next(ids)
                    await ws.send_json({"id": n, "method": method, "params": params})
                    async for msg in ws:
                        data = msg.json()
                        if data.get("id") == n:
                            assert "error" not in data, data
                            return data["result"]
                        if data.get("method") == "Page.loadEventFired":
                            loaded.set()

                loaded = asyncio.Event()
                await call("Page.enable")
                await call("Emulation.setDeviceMetricsOverride", width=1280, height=1400,
                           deviceScaleFactor=1, mobile=False)
                await call("Page.navigate", url=url)
                while not loaded.is_set():
                    data = (await ws.receive()).json()
                    if data.get("method") == "Page.loadEventFired":
                        loaded.set()
                result = await call(
                    "Runtime.evaluate", awaitPromise=True, returnByValue=True,
                    expression="Promise.all([...document.images].map(i => i.decode()"
                               ".catch(() => null))).then(() => ({title: document.title, "
                               "images: [...document.images].map(i => ({src: "
                               "i.getAttribute('src'), complete: i.complete, "
                               "width: i.naturalWidth}))}))")
                shot = await call("Page.captureScreenshot", format="png")
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                return result["result"]["value"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.mark.slow
@pytest.mark.parametrize("page", ["index", "performance"])
def test_page_renders_in_chromium(site, browser, page, tmp_path_factory):
    shots = tmp_path_factory.mktemp("screenshots")
    shot = shots / f"{page}.png"
    seen = browser.visit((site / "html" / f"{page}.html").as_uri(), shot)
    assert "czarr" in seen["title"], seen["title"]
    # no broken image: each one loaded, with pixels
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 0, image
    # what a reader sees: text and colours, not a blank page
    rgb = _read_png(shot)
    assert rgb.shape[:2] == (1400, 1280)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50
    if page == "performance":
        assert [i["src"] for i in seen["images"]] == ["_images/compare.png"]
        plot = _plot_module()
        # the plot is drawn on screen: its bars' colours are in the screenshot
        for lib in ("czarr", "zarr-python", "tensorstore"):
            assert _pixels_near(rgb, plot.LIBRARIES[lib]) > 100, lib
