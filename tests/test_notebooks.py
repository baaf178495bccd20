"""Runs every notebook top to bottom in quick mode (ZOO_QUICK=1), as a newcomer would, and checks
that each is committed with the outputs of a full run (`make notebooks`), for readers who do not
run it."""

import re
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernelspec
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


@pytest.fixture
def python3_kernel(tmp_path, monkeypatch):
    """Points the "python3" kernel at this interpreter, whatever other kernelspecs exist."""
    prefix = tmp_path / "jupyter"
    # JUPYTER_PATH comes first in Jupyter's search path, before user and system kernels.
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    install_kernelspec(kernel_name="python3", prefix=str(prefix))
    return "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path, python3_kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_QUICK", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=900,
        kernel_name=python3_kernel,
        # Run from a scratch directory, so nothing a notebook writes lands in the repo.
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        message = ANSI_ESCAPE.sub("", str(error))
        pytest.fail(f"{path.name} failed (kernel {sys.executable}):\n{message}", pytrace=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_with_the_outputs_of_a_full_run(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in cells]
    rerun = "rerun it with `make notebooks`"
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: not one run from top to bottom (execution counts {counts}): {rerun}."
    )
    failed = [
        count
        for count, cell in enumerate(cells, start=1)
        if any(output.output_type == "error" for output in cell.outputs)
    ]
    assert not failed, f"{path.name}: cells {failed} raised: {rerun}."
    setup = next(cell for cell in cells if "QUICK = " in cell.source)
    printed = "".join(output.get("text", "") for output in setup.outputs)
    assert printed == "Full run.\n", f"{path.name}: its outputs are a quick run's: {rerun}."
