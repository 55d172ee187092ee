"""The HTML report in a real headless browser (chromium): it loads without errors and every figure
renders.

A copy of the page gets a small checker script (first thing in <head>, so it sees everything) and
a Content-Security-Policy that allows only inline styles and data: images, so a reference to any
outside resource is blocked and reported instead of fetched. The checker records script errors,
failed or blocked resource loads, unhandled rejections and console.error / console.warn calls, and
after the load event writes them with every image's decoded size and on-page box into the DOM,
which ``chromium --dump-dom`` prints. Chromium's own "CONSOLE" log lines on stderr are a second
channel: the report has no scripts, so any console message at all is a problem.

Needs chromium (Debian: apt-get install chromium). Without it these tests skip, unless
``BAYESDENSE_REQUIRE_BROWSER=1`` (set by ``.ci/run`` after it installed chromium), where they fail.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import fake_result

from bayesdense import report

REQUIRE = "BAYESDENSE_REQUIRE_BROWSER"
RESULT_ID = "bayesdense-browser-check"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
CHECKER = """<meta http-equiv="Content-Security-Policy" content="__CSP__">
<script>
(function () {
  var problems = [];
  function what(el) {
    var a = el.getAttribute('alt') || el.getAttribute('src') || el.getAttribute('href') || '';
    return el.tagName.toLowerCase() + ' ' + a.slice(0, 60);
  }
  window.addEventListener('error', function (e) {
    if (e.target && e.target !== window) { problems.push('failed to load ' + what(e.target)); }
    else { problems.push('script error: ' + e.message + ' (line ' + e.lineno + ')'); }
  }, true);
  window.addEventListener('unhandledrejection', function (e) { problems.push('unhandled rejection: ' + e.reason); });
  document.addEventListener('securitypolicyviolation', function (e) {
    problems.push('blocked by CSP (' + e.effectiveDirective + '): ' + String(e.blockedURI).slice(0, 60));
  });
  ['error', 'warn'].forEach(function (level) {
    var orig = console[level];
    console[level] = function () {
      problems.push('console.' + level + ': ' + Array.prototype.join.call(arguments, ' '));
      return orig.apply(console, arguments);
    };
  });
  function box(el) { var r = el.getBoundingClientRect(); return [r.width, r.height]; }
  function bottomRowOpaque(im) {  // a truncated PNG still decodes, but its missing rows stay transparent
    if (!im.naturalWidth) { return 0; }
    var c = document.createElement('canvas');
    c.width = im.naturalWidth; c.height = im.naturalHeight;
    var g = c.getContext('2d');
    g.drawImage(im, 0, 0);
    var row = g.getImageData(0, c.height - 1, c.width, 1).data, n = 0;
    for (var i = 3; i < row.length; i += 4) { if (row[i] > 0) { n++; } }
    return n / c.width;
  }
  function report() {
    var out = {
      problems: problems,
      images: Array.prototype.map.call(document.images, function (im) {
        return {alt: im.alt, complete: im.complete, natural: [im.naturalWidth, im.naturalHeight], box: box(im),
                bottom_row_opaque: bottomRowOpaque(im)};
      }),
      svgs: Array.prototype.map.call(document.querySelectorAll('body svg'), function (s) { return {box: box(s)}; }),
      banners: Array.prototype.map.call(document.querySelectorAll('.banner'), function (b) {
        var r = b.getBoundingClientRect(); return {text: b.textContent.slice(0, 40), top: r.top, bottom: r.bottom};
      }),
      width: {viewport: window.innerWidth, document: document.documentElement.scrollWidth,
              body: document.body.scrollWidth},
      wider: Array.prototype.filter.call(document.querySelectorAll('body *'), function (el) {
        return el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.closest('.scroll');
      }).slice(0, 5).map(function (el) { return el.tagName.toLowerCase() + '.' + el.className; })
    };
    var pre = document.createElement('pre');
    pre.id = '__RID__';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener('load', function () { setTimeout(report, 200); });
})();
</script>
""".replace("__CSP__", CSP).replace("__RID__", RESULT_ID)


class BrowserError(AssertionError):
    pass


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if exe is None:
        msg = "chromium not found (Debian: apt-get install chromium)"
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{msg}; {REQUIRE}=1 requires it")
        pytest.skip(msg)
    return exe


def with_checker(page: str) -> str:
    """The page with the checker inserted right after <meta charset> (or <head>)."""
    m = re.search(r"<meta charset=[^>]*>", page, re.I) or re.search(r"<head[^>]*>", page, re.I)
    if m is None:
        raise ValueError("the page has no <head>")
    return page[: m.end()] + "\n" + CHECKER + page[m.end() :]


def _chromium(exe: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        exe,
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={workdir / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        *args,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.insert(1, "--no-sandbox")  # chromium refuses to run as root with its sandbox
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def load_in_browser(exe: str, page: str, workdir: Path, width: int = 1366) -> dict[str, Any]:
    """Open the page (with the checker) in headless chromium, ``width`` CSS pixels wide; the
    checker's record plus the CONSOLE lines chromium logged."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "page.html"
    path.write_text(with_checker(page), encoding="utf-8")
    r = _chromium(exe, workdir, f"--window-size={width},900", "--dump-dom", path.as_uri())
    m = re.search(rf'<pre id="{RESULT_ID}">(.*?)</pre>', r.stdout, re.S)
    if m is None:
        raise BrowserError(f"the checker left no record (chromium exit {r.returncode}):\n{r.stderr[-3000:]}")
    out = json.loads(html.unescape(m.group(1)))
    out["console"] = re.findall(r":CONSOLE[^\]]*\] (.*)", r.stderr)
    return out


def problems(rec: dict[str, Any]) -> list[str]:
    """Everything wrong with a loaded page: errors, console messages, figures that did not render."""
    out = list(rec["problems"]) + [f"console: {c}" for c in rec["console"]]
    for im in rec["images"]:
        if not im["complete"] or min(im["natural"]) <= 0:
            out.append(f"image '{im['alt']}' did not render (decoded size {im['natural']})")
        elif im["bottom_row_opaque"] == 0:
            out.append(f"image '{im['alt']}' decoded incompletely (its last row is transparent: truncated?)")
        elif min(im["box"]) <= 0:
            out.append(f"image '{im['alt']}' has no area on the page ({im['box']})")
    out += [f"svg {i} has no area on the page ({s['box']})" for i, s in enumerate(rec["svgs"]) if min(s["box"]) <= 0]
    if not rec["images"] and not rec["svgs"]:
        out.append("no figure on the page")
    w = rec["width"]
    if max(w["document"], w["body"]) > w["viewport"]:
        out.append(
            f"clipped horizontally: the page is {max(w['document'], w['body'])} px wide in a {w['viewport']} px "
            f"window (elements past the right edge: {rec['wider']})"
        )
    return out


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


def png_sizes(page: str) -> dict[str, tuple[int, int]]:
    """alt -> (width, height) from the IHDR chunk of each embedded PNG, read in Python."""
    parser = _Images()
    parser.feed(page)
    out = {}
    for im in parser.images:
        src = im.get("src") or ""
        assert src.startswith("data:image/png;base64,"), f"image '{im.get('alt')}' is not an embedded PNG"
        head = base64.b64decode(src.split(",", 1)[1][:44])
        out[str(im.get("alt"))] = struct.unpack(">II", head[16:24])
    return out


@pytest.fixture(scope="module")
def page() -> str:
    """The report of a quick-look (profile 'fast') fit of the default spec (paper-implied scores)
    whose chains disagree: every banner, the curve figures and the trace plots are on it."""
    rate = np.random.default_rng(9).normal(0.006, 0.0004, size=(2, 200))
    rate[1] += 0.0006  # the second chain sits elsewhere: R-hat fails
    tree = fake_result(rate, spec_name="default")
    tree.attrs["sampler"] = json.dumps({"sampler": "numpyro", "chains": 2, "draws": 200, "profile": "fast"})
    return report.html_report(tree)


SCREEN_HEIGHT = 900  # a laptop's first screen, in CSS pixels


@pytest.mark.parametrize("width", [1366, 1920])
def test_report_at_laptop_and_desktop_width(chromium, page, tmp_path, width):
    """At 1366 px (laptop) and 1920 px: nothing clipped horizontally, no console message, every
    figure decoded at its PNG size, the warnings in the first screen. Screenshots of the first
    screen and of the whole page stay in the test's tmp dir (pytest keeps the last runs)."""
    rec = load_in_browser(chromium, page, tmp_path / "check", width=width)
    assert rec["width"]["viewport"] == width
    assert problems(rec) == []
    assert {im["alt"]: tuple(im["natural"]) for im in rec["images"]} == png_sizes(page)
    assert {"trace_rank", "density_vs_date", "doubling_time"} <= {im["alt"] for im in rec["images"]}
    titles = [b["text"].split(".")[0] for b in rec["banners"]]
    assert titles == [
        "Not converged: do not cite these numbers",
        "Quick-look fit (profile ‘fast’)",
        "Reconstructed data",
    ]
    assert all(b["bottom"] <= SCREEN_HEIGHT for b in rec["banners"]), rec["banners"]

    import matplotlib.image as mpimg

    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    for name, height in (("first-screen", SCREEN_HEIGHT), ("full", 14000)):
        shot = tmp_path / f"report-{width}-{name}.png"
        r = _chromium(
            chromium, tmp_path, "--hide-scrollbars", f"--window-size={width},{height}", f"--screenshot={shot}",
            path.as_uri(),
        )  # fmt: skip
        assert shot.exists(), r.stderr[-3000:]
        px = mpimg.imread(shot)[..., :3]
        assert px.shape[:2] == (height, width)
        # the rightmost 2% of the page is margin: nothing runs off the edge
        assert px[:, -width // 50 :].min() > 0.9


def test_report_loads_without_errors_and_every_figure_renders(chromium, page, tmp_path):
    rec = load_in_browser(chromium, page, tmp_path)
    assert problems(rec) == []
    # every embedded figure was decoded by the browser at exactly the size the PNG declares
    expected = png_sizes(page)
    assert len(expected) >= 1
    assert {im["alt"]: tuple(im["natural"]) for im in rec["images"]} == expected


def test_report_screenshot_is_not_blank(chromium, page, tmp_path):
    import matplotlib.image as mpimg

    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    shot = tmp_path / "report.png"
    r = _chromium(
        chromium, tmp_path, "--hide-scrollbars", "--window-size=1000,2400", f"--screenshot={shot}", path.as_uri()
    )
    assert shot.exists(), r.stderr[-3000:]
    px = mpimg.imread(shot)[..., :3]
    # figures and text: a good share of the pixels is not background white, and some are coloured
    assert (px.min(axis=-1) < 0.9).mean() > 0.02
    assert (np.ptp(px, axis=-1) > 0.2).mean() > 0.005


BAD = {
    "broken image": (lambda p: re.sub(r"base64,[^']*'", "base64,bm90IGEgcG5n'", p, count=1), "failed to load img"),
    "truncated image": (lambda p: re.sub(r"(base64,[A-Za-z0-9+/]{4000})[^']*'", r"\1'", p, count=1), "incompletely"),
    "throwing script": (lambda p: p.replace("</body>", "<script>null.f();</script></body>"), "script error"),
    "console error": (lambda p: p.replace("</body>", "<script>console.error('bad');</script></body>"), "console.error"),
    "outside resource": (
        lambda p: p.replace("</body>", "<img alt='remote' src='https://example.invalid/x.png'></body>"),
        "blocked by CSP",
    ),
    "missing file": (lambda p: p.replace("</body>", "<img alt='gone' src='no-such-figure.png'></body>"), "gone"),
    "zero-size figure": (
        lambda p: p.replace("</head>", "<style>figure img{width:0;border:0}</style></head>"),
        "no area",
    ),
    "too wide": (lambda p: p.replace("</main>", "<p style='width:1500px'>wide</p></main>"), "clipped horizontally"),
    "unwrapped long line": (
        lambda p: p.replace("white-space:pre-wrap", "white-space:pre").replace("</pre>", "#" * 300 + "</pre>"),
        "clipped horizontally",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_the_check_catches_a_bad_page(chromium, page, tmp_path, case):
    spoil, expect = BAD[case]
    bad = spoil(page)
    assert bad != page, "the test's edit did not apply"
    found = problems(load_in_browser(chromium, bad, tmp_path))
    assert any(expect in p for p in found), found


def test_console_lines_are_read_from_chromium_log(chromium, page, tmp_path):
    rec = load_in_browser(chromium, page.replace("</body>", "<script>null.f();</script></body>"), tmp_path)
    assert any("Uncaught TypeError" in c for c in rec["console"]), rec["console"]
