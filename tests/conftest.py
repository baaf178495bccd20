import os

import pytest

from tests import learning

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The slowest test files, longest first, by their durations in a whole run
# (`--durations=0`): started first, they do not end the run alone on one worker.
SLOWEST_FIRST = (
    "tests.test_notebooks",
    "tests.test_image_captioner",
    "tests.test_attention_translator",
    "tests.test_t5",
    "tests.test_transformer",
    "tests.test_seq2seq",
    "tests.test_distribute",
)


def pytest_addoption(parser):
    parser.addoption(
        "--learning-seed",
        type=int,
        default=0,
        help="the seed of the learning tests' weights and batch order (make test-seeds)",
    )


def pytest_configure(config):
    learning.SEED = config.getoption("--learning-seed")  # in the controller and every worker


def pytest_report_header(config):
    return f"machine: {learning.machine_kind()}; learning seed {learning.SEED}"


@pytest.hookimpl(trylast=True)  # after pytest's own reordering, which the stable sort keeps
def pytest_collection_modifyitems(items):
    """Runs the slowest files first. Under `make test`'s `--dist loadfile
    --no-loadscope-reorder` each file goes whole to the next free worker in this order, so
    the long ones start early and the short ones fill the gaps at the end, instead of one
    worker running a long file alone while the others sit idle."""
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(rank)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Hands the trainings of this test (or of the fixtures it set up) to its report, which
    xdist sends to the controller; a failure names the machine and the seed."""
    report = yield
    while learning.RECORDS:
        report.user_properties.append(("learning", learning.RECORDS.pop(0)))
    if report.failed:
        report.sections.append(
            ("machine", f"{learning.machine_kind()}; learning seed {learning.SEED}")
        )
    return report


_trainings = []


def pytest_runtest_logreport(report):
    _trainings.extend(value for key, value in report.user_properties if key == "learning")


def pytest_terminal_summary(terminalreporter):
    if _trainings:
        terminalreporter.section(f"learning ({learning.machine_kind()})")
        for record in sorted(_trainings, key=lambda record: record["name"]):
            terminalreporter.write_line(learning.describe_record(record))
