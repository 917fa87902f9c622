"""What a newcomer relies on: the README's first Python block runs as written, and each phase imports alone."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "torch")


def first_python_block(markdown):
    return re.search(r"```python\n(.*?)```", markdown, re.S).group(1)


def test_readme_is_short_and_its_first_python_block_runs_from_an_empty_folder(tmp_path):
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    result = subprocess.run([sys.executable, "-c", first_python_block(readme)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\(\d+, \d+, \d+, \d+\) happy \d+%$", result.stdout, re.M), result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("module, forbidden", [
    ("fer_classic", HEAVY + ("cv2", "sklearn", "dlib", "joblib")),
    ("fer_classic.detect", HEAVY),
    ("fer_classic.detect.viola_jones", HEAVY + ("joblib",)),
    ("fer_classic.extract", HEAVY + ("sklearn", "dlib")),
    ("fer_classic.extract.hog", HEAVY + ("sklearn", "dlib")),
    ("fer_classic.classify", HEAVY),
    ("fer_classic.pipeline", HEAVY),
])
def test_each_phase_imports_without_what_it_does_not_need(module, forbidden):
    code = f"import sys, {module}; print(' '.join(m for m in {forbidden!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imported {result.stdout.strip()}"


def test_the_package_has_no_import_cycle():
    """No module of fer_classic imports a module that imports it back, not even inside a function."""
    import ast

    package = ROOT / "fer_classic"
    graph = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        base = parts[:-1]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = list(base[:len(base) - node.level + 1]) + (node.module.split(".") if node.module else [])
                edges.add(".".join(target))
        graph[name] = edges

    def reaches(start, goal, seen):
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and not seen.add(nxt) and reaches(nxt, goal, seen)):
                return True
        return False

    cycles = [(a, b) for a, edges in graph.items() for b in edges
              if b != a and not a.startswith(b + ".") and reaches(b, a, set())]
    assert not cycles, cycles


def test_library_code_does_not_import_the_command_line():
    """fer_classic/cli/ is a front end: the library, the GUI and the other front ends never import it (only
    ``python -m fer_classic`` starts it), so what the CLI calls lives in the library."""
    import ast

    package = ROOT / "fer_classic"
    offenders = []
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[1] == "cli" or parts[1:] == ("__main__",):
            continue
        base = parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    module = ".".join(list(base[:len(base) - node.level + 1]) + ([module] if module else []))
                names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name == "fer_classic.cli" or name.startswith("fer_classic.cli.") for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
