"""The scripts in tools/ that build committed files: their output is up to date."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_index_lists_every_record():
    index = load_tool("index_results")
    committed = (index.RESULTS / "README.md").read_text()
    assert committed == index.index_markdown(), "run python tools/index_results.py"
    for folder in index.RESULTS.iterdir():
        if folder.is_dir():
            assert f"[{folder.name}]" in committed
