"""The package's floors: numbers (core) <- study <- report and explore, each importing only
downward, and beneath them the modules that compute no number (files, validation, cifar10).
Rooms on one floor (report and explore; files, validation and blas) never import each
other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "bnnet"

#: floor of each room (a module or subpackage); a module may import from its own room and
#: from the floors below, not from another room of its floor
FLOORS = {"files": 0, "validation": 0, "blas": 0, "cifar10": 1, "core": 2, "study": 3,
          "report": 4, "explore": 4}
NAMES = {0: "ground", 1: "data source", 2: "core (the numbers)", 3: "study",
         4: "report and explore"}
#: imports inside a function that are meant: the explorer's package imports its widget when
#: asked for it (PEP 562), so that its widget-free modules import without ipywidgets and a
#: missing ipywidgets is an error that names the extra to install
LAZY = {("explore/__init__.py", "bnnet.explore.explorer")}


def room_of(module: str) -> str | None:
    """The room of a dotted module name inside bnnet (``None``: bnnet itself or outside)."""
    parts = module.split(".")
    if parts[0] != "bnnet" or len(parts) < 2:
        return None
    return parts[1]


def floor_of(module: str) -> int | None:
    """The floor of a dotted module name inside bnnet (``None``: bnnet itself or outside)."""
    room = room_of(module)
    return None if room is None else FLOORS[room]


def bnnet_imports(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(module, line, inside a function) for every import of a bnnet module."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, in_function) for a in child.names
                             if a.name.split(".")[0] == "bnnet")
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0 \
                    and child.module.split(".")[0] == "bnnet":
                found.append((child.module, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_imports_only_from_its_room_or_a_lower_floor(path):
    name = str(path.relative_to(SRC))
    room = path.relative_to(SRC).parts[0].removesuffix(".py")
    own = FLOORS[room]
    for module, line, in_function in bnnet_imports(ast.parse(path.read_text())):
        target = floor_of(module)
        assert target is not None, f"{path.name}:{line} imports {module}: import a module"
        assert target <= own, (f"{name}:{line} ({NAMES[own]}) imports "
                               f"{module} ({NAMES[target]}), a higher floor")
        assert target < own or room_of(module) == room, (
            f"{name}:{line} ({room}) imports {module}, another room of its floor")
        assert not in_function or (name, module) in LAZY, (
            f"{name}:{line} imports {module} inside a function: import it at the top of the "
            "module")


def test_the_checker_sees_an_upward_import_and_a_sideways_one():
    tree = ast.parse("def f():\n    from bnnet.report.prose import pm\nimport bnnet.core.config")
    assert bnnet_imports(tree) == [("bnnet.report.prose", 2, True),
                                   ("bnnet.core.config", 3, False)]
    assert floor_of("bnnet.report.prose") > floor_of("bnnet.core.config")
    assert floor_of("bnnet.explore.plots") == floor_of("bnnet.report.plots")
    assert room_of("bnnet.explore.plots") != room_of("bnnet.report.plots")


def test_every_module_has_a_floor():
    for path in MODULES:
        assert path.relative_to(SRC).parts[0].removesuffix(".py") in FLOORS, path


def test_getting_the_data_is_outside_the_numbers():
    # its messages and the download are not the arithmetic (NUMERICS_VERSION's concern)
    assert not (SRC / "core" / "cifar10.py").exists()
    assert (SRC / "cifar10.py").is_file()
