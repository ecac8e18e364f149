"""Reports that travel: a small plotly.js bundle embedded once, and only trace types it can draw."""

from __future__ import annotations

import json
from importlib import resources

import nbformat
import pytest
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from aioa_analysis.reporting import display


def test_the_shipped_partial_bundle_is_the_version_plotly_expects():
    name, version = display.PLOTLY_BUNDLE
    text = (resources.files("aioa_analysis.reporting") / "templates" / "vendor" / name).read_text(
        encoding="utf-8"
    )
    assert f"plotly.js (basic - minified) v{version}" in text[:300]
    assert get_plotlyjs_version() == version
    assert display.plotly_js() == text
    assert len(text) < len(get_plotlyjs()) / 3  # 1.1 MB instead of 4.7 MB


def test_a_version_mismatch_falls_back_to_the_full_bundle(monkeypatch, caplog):
    import plotly.offline

    display.plotly_js.cache_clear()
    monkeypatch.setattr(plotly.offline, "get_plotlyjs_version", lambda: "9.9.9")
    try:
        assert display.plotly_js() == get_plotlyjs()
        assert "full bundle embedded" in caplog.text
    finally:
        display.plotly_js.cache_clear()


@pytest.mark.slow
def test_every_report_chart_uses_a_trace_type_the_bundle_draws(built):
    nb_path = built["reports"] / "notebooks" / "rapport-departement.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    types = {
        trace.get("type", "scatter")
        for cell in nb.cells
        for out in cell.get("outputs", [])
        for trace in json.loads(json.dumps(out.get("data", {}).get(display.PLOTLY_MIME, {}))).get("data", [])
    }
    assert types and types <= display.BUNDLE_TRACES, types
    assert built["result"].size_bytes < 1_500_000
