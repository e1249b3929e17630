"""pytest settings of the fakes' self-tests: a skipped test fails, and temp
files stay in the checkout.

A skip exits 0, so a suite whose peers are missing would pass without testing them
(scripts/test.sh must pass only when every test ran).
"""

from pathlib import Path

import pytest


def pytest_configure(config):
    # The fakes' state files hold test secrets: however pytest is started, they
    # go under target/, never /tmp (pytest's default), where runs left them behind.
    if not config.option.basetemp:
        config.option.basetemp = str(Path(__file__).resolve().parents[2] / "target" / "pytest-tmp")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped, which the test command does not allow: {reason}"
