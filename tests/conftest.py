"""Shared test settings and fixtures.

The end-to-end build (sample -> clean -> report, :func:`tests.report_fakes.build_sample_reports`)
is cached per process: every test that uses it is put in one xdist group so that, under
``pytest -n 2 --dist loadgroup``, it is built once.

Nothing here changes process-wide settings (environment, allocator, threads) for the workers: a
test that needs an environment variable sets it with ``monkeypatch``, which restores it.
"""

from __future__ import annotations

import pytest

from tests.report_fakes import build_sample_reports

E2E_MODULES = {
    "test_reporting",
    "test_report_browser",
    "test_followup",
    "test_travel",
    "test_notebooks",
    "test_essentiel",
    "test_cfa_reports",
    "test_report_tables",
    "test_accessibility",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        mod = getattr(item, "module", None)  # doctest items have none
        module = mod.__name__.rsplit(".", 1)[-1] if mod is not None else ""
        if module in E2E_MODULES and (item.get_closest_marker("slow") or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The end-to-end build (cached per process), for the report and browser tests."""
    return build_sample_reports(tmp_path_factory.mktemp("e2e"))
