"""gitml report: one self-contained HTML page, loaded in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.compare.conftest import History
from tests.conftest import Cli, git

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LINE_COLOUR = (31, 119, 180)  # the charts' line colour (#1f77b4)


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'chromium'}",
         "--enable-logging=stderr", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_report_is_one_self_contained_page(history: History, cli: Cli) -> None:
    out = cli("report", "--models", "churn", "-o", "churn.html").out
    page = history.root / "churn.html"
    assert out == f"wrote {page}\n"
    text = page.read_text("utf-8")
    # nothing to fetch: no scripts, stylesheets, images or frames from anywhere
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    links = re.findall(r"(?:src|href)=[\"']([^\"']*)", text)
    assert links and all(link.startswith("#") for link in links)  # the SVGs' own symbols
    assert text.count("<div class='chart'") == 4  # accuracy, eval.auc, rows, f1
    for metric in ("metrics.json:accuracy", "metrics.json:eval.auc", "metrics.json:f1"):
        assert f"data-metric='{metric}'" in text
    assert "<td>params.yaml:lr</td><td>0.1</td><td>0.05</td>" in text
    assert "<td>churn</td><td>assign</td><td>v1.0.0</td><td>prod</td>" in text
    cli("report", "HEAD~1..HEAD", "-o", "range.html")
    ranged = (history.root / "range.html").read_text("utf-8")
    assert f"points: {history.v1[:8]}, {history.v2[:8]}" in ranged
    cli("report", "churn#prod..churn@latest", "-o", "refs.html")
    assert (history.root / "refs.html").read_text("utf-8").count("<div class='chart'") == 4
    # a metric name is text, never matplotlib's math markup
    (history.root / "metrics.json").write_text('{"cost $": 1, "$x^": 2}')
    git(history.root, "commit", "-qam", "odd names")
    cli("report", "-o", "odd.html")
    assert "data-metric='metrics.json:cost $'" in (history.root / "odd.html").read_text("utf-8")
    assert cli("report", "x..", expect=2).err.startswith("error: cannot read 'x..' as A..B")
    err = cli("report", "HEAD", "--models", "churn", expect=2).err
    assert err.startswith("error: give a range or --models, not both")
    assert cli("report", "--models", "chrun", expect=1).err.startswith("error: no artifact")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)"
)
def test_report_renders_in_headless_chromium(history: History, cli: Cli, tmp_path: Path) -> None:
    from PIL import Image

    cli("report", "--models", "churn", "-o", "churn.html")
    page = history.root / "churn.html"
    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Uncaught" not in dom.stderr and "Failed to load" not in dom.stderr
    charts = re.findall(r"<div class=\"chart\" data-metric=\"([^\"]+)\">\s*<svg", dom.stdout)
    assert charts == ["metrics.json:accuracy", "metrics.json:eval.auc", "metrics.json:rows",
                      "metrics.json:f1"]  # fmt: skip
    shot = tmp_path / "report.png"
    done = _chromium(tmp_path, page, "--window-size=1300,1800", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1300, 1800)
    import numpy as np

    pixels = np.asarray(image, dtype=np.int32)
    line = int((np.abs(pixels - np.asarray(LINE_COLOUR)).max(axis=2) < 40).sum())
    assert line > 500, f"only {line} pixels of the chart lines were painted"
