import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.hookimpl(trylast=True)  # after pytest's own reordering, which the sort keeps
def pytest_collection_modifyitems(items):
    """Runs the notebooks first. They are the longest test file, so under `make test`'s
    `--dist loadfile` one worker takes them while the others share the rest, instead of
    one worker running them alone at the end."""
    items.sort(key=lambda item: item.module.__name__ != "tests.test_notebooks")
