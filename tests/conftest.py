import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(items):
    """Under pytest-xdist's `--dist loadgroup` (`make test`), keeps each test module on one
    worker, so that a module's trained fixtures are built once; the notebooks, which share
    nothing, spread over the workers one by one."""
    for item in items:
        if item.module.__name__ != "tests.test_notebooks":
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
