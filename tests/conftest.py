import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The slowest test files, longest first (seconds on one of two workers, measured with
# `--durations=0` in a whole run: notebooks 850, image captioner 510, attention translator
# 410, T5 280, Transformer 240, seq2seq 160; every other file under 115).
SLOWEST_FIRST = (
    "tests.test_notebooks",
    "tests.test_image_captioner",
    "tests.test_attention_translator",
    "tests.test_t5",
    "tests.test_transformer",
    "tests.test_seq2seq",
)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering, which the stable sort keeps
def pytest_collection_modifyitems(items):
    """Runs the slowest files first. Under `make test`'s `--dist loadfile
    --no-loadscope-reorder` each file goes whole to the next free worker in this order, so
    the long ones start early and the short ones fill the gaps at the end, instead of one
    worker running a long file alone while the others sit idle."""
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(rank)))
