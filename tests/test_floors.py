"""The house has floors: a module imports only from its own floor or below (docs/DEVELOPING.md).

Read from each module's own import statements (module level and inside functions), so an upward import
fails here before it tangles the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "oppshape"

#: Ground to top. Ground-floor services and ``games`` share floor 0.
FLOORS: dict[str, int] = {
    "config": 0, "checkpoint": 0, "rng": 0, "hot_path": 0, "loggers": 0, "config_errors": 0, "games": 0,
    "envs": 1,
    "modules": 2,
    "objectives": 3,
    "rollouts": 4,
    "learners": 5,
    "eval": 6,
    "experiments": 7,
    "trainer": 8,
    "cli": 9, "report": 9, "league": 9, "__main__": 9,
}


def room_of(module: str) -> str:
    """``oppshape.eval.dice`` -> ``eval``; ``oppshape.trainer`` -> ``trainer``."""
    return module.split(".")[1]


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" or path.parent != PACKAGE)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every ``oppshape.*`` import of the file, relative imports resolved."""
    package_parts = ["oppshape", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("oppshape.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "oppshape":  # ``from oppshape import envs``
                found += [(node.lineno, f"oppshape.{alias.name}") for alias in node.names]
            elif name.startswith("oppshape."):
                found.append((node.lineno, name))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("oppshape", *parts))


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_import_runs_up_a_floor(path: Path) -> None:
    own = room_of(module_name(path))
    assert own in FLOORS, f"room {own!r} has no floor: add it to FLOORS here and to docs/DEVELOPING.md"
    upward = [
        f"line {line}: {target} (floor {FLOORS[room_of(target)]} {room_of(target)!r} is above {own!r}, floor {FLOORS[own]})"
        for line, target in imported_modules(path)
        if room_of(target) in FLOORS and FLOORS[room_of(target)] > FLOORS[own]
    ]
    assert not upward, "\n".join(upward)


def test_the_floor_reader_sees_upward_imports(tmp_path: Path) -> None:
    """The reader itself: relative and absolute, module-level and function-level imports are all found."""
    room = tmp_path / "oppshape" / "games"
    room.mkdir(parents=True)
    source = room / "payoffs.py"
    source.write_text("from ..envs import coin_game\nimport oppshape.trainer\n\ndef f():\n    from oppshape.cli import run\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "oppshape"
    try:
        assert [name for _, name in imported_modules(source)] == [
            "oppshape.envs", "oppshape.trainer", "oppshape.cli"]
    finally:
        PACKAGE = saved
