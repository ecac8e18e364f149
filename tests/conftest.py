"""Shared test settings.

The end-to-end build (sample -> clean -> report, :func:`tests.report_fakes.build_sample_reports`)
is cached per process: every test that uses it is put in one xdist group so that, under
``pytest -n 2 --dist loadgroup``, it is built once.
"""

from __future__ import annotations

import pytest

E2E_MODULES = {"test_reporting", "test_report_browser", "test_followup"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        mod = getattr(item, "module", None)  # doctest items have none
        module = mod.__name__.rsplit(".", 1)[-1] if mod is not None else ""
        if module in E2E_MODULES and (item.get_closest_marker("slow") or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.xdist_group("e2e"))
