"""README's recorded results are rendered from the JSON that benchmark scripts printed
(`bench/results.py`): a figure retyped or edited by hand in a result block fails here."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def results_module():
    spec = importlib.util.spec_from_file_location("results", ROOT / "bench" / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RESULTS = results_module()
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_result_blocks_are_rendered_from_their_records():
    assert RESULTS.BLOCK.search(README), "README.md shows no recorded result"
    assert README == RESULTS.rendered(README), "run `.venv/bin/python bench/results.py`"


def test_every_record_is_shown_in_the_readme():
    shown = {name for match in RESULTS.BLOCK.finditer(README) for name in match["names"].split()}
    assert shown == {path.stem for path in RESULTS.RESULTS.glob("*.json")}


def test_a_figure_edited_by_hand_is_told_apart():
    match = RESULTS.BLOCK.search(README)
    body = match.group("body")
    edited = README.replace(body, body.replace("|", "| 1", 1), 1)
    assert RESULTS.rendered(edited) != edited
