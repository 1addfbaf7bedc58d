"""The suite's own set-up: tests marked with one `xdist_group` run on one worker, in order (`--dist loadgroup`).

Tests that share a server, a port or a database name rely on it; pytest 9.2 with pytest-xdist 3.8 silently stopped
grouping (pytest-dev/pytest-xdist#1386), so pyproject.toml pins pytest below 9.2 and these two tests notice if a
future combination breaks it again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

GROUP = "xdist-group-check"


def _mark_file(config) -> Path:
    # one file per run, shared by its workers: xdist gives every worker of a run the same testrunuid (pytest's
    # numbered temporary folders are not used: another pytest run on the machine may clean them away meanwhile)
    run = config.workerinput["testrunuid"] if hasattr(config, "workerinput") else f"main-{os.getpid()}"
    return Path(tempfile.gettempdir()) / f"fanzha-xdist-group-{run}.worker"


@pytest.mark.xdist_group(GROUP)
def test_first_of_a_group_notes_its_worker(pytestconfig):
    _mark_file(pytestconfig).write_text(os.environ.get("PYTEST_XDIST_WORKER", "main"))


@pytest.mark.xdist_group(GROUP)
def test_second_of_the_group_runs_after_it_on_the_same_worker(pytestconfig):
    mark = _mark_file(pytestconfig)
    assert mark.exists(), "the group's first test has not run before this one: xdist_group is not honoured"
    worker = mark.read_text()
    mark.unlink()
    assert worker == os.environ.get("PYTEST_XDIST_WORKER", "main"), "the group was split across workers"
