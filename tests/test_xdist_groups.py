"""The suite's own set-up: tests marked with one `xdist_group` run on one worker, in order (`--dist loadgroup`).

Tests that share a server, a port or a database name rely on it; pytest 9.2 with pytest-xdist 3.8 silently stopped
grouping (pytest-dev/pytest-xdist#1386), so pyproject.toml pins pytest below 9.2 and these two tests notice if a
future combination breaks it again.
"""

from __future__ import annotations

import os

import pytest

GROUP = "xdist-group-check"


def _mark_file(tmp_path_factory) -> object:
    # getbasetemp() is per worker under xdist; its parent is the run's own folder, shared by the workers
    return tmp_path_factory.getbasetemp().parent / "xdist-group-check.worker"


@pytest.mark.xdist_group(GROUP)
def test_first_of_a_group_notes_its_worker(tmp_path_factory):
    _mark_file(tmp_path_factory).write_text(os.environ.get("PYTEST_XDIST_WORKER", "main"))


@pytest.mark.xdist_group(GROUP)
def test_second_of_the_group_runs_after_it_on_the_same_worker(tmp_path_factory):
    mark = _mark_file(tmp_path_factory)
    assert mark.exists(), "the group's first test has not run before this one: xdist_group is not honoured"
    assert mark.read_text() == os.environ.get("PYTEST_XDIST_WORKER", "main"), "the group was split across workers"
