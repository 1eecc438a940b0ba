"""The package's floors hold: imports flow down only, no circle, no reach into another
package's private modules. Read from the source (every import, function-level ones too),
so a lazy import cannot hide an upward arrow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wergap"

#: Floors from the ground up (docs/architecture.md). A module may import its own floor's
#: modules and any floor below; nothing above.
FLOORS: list[tuple[str, ...]] = [
    (
        "wergap._arrow",
        "wergap._io",
        "wergap._json",
        "wergap._jit",
        "wergap._strings",
        "wergap.errors",
        "wergap.provenance",
        "wergap.defaults",
        "wergap._format",
        "wergap._version",
    ),
    ("wergap.data_schemas",),
    (
        "wergap.scoring_kernels",
        "wergap.scoring_numpy",
        "wergap.scoring",
        "wergap.normalization",
        "wergap.whisper_english",
        "wergap.speaker_table",
    ),
    ("wergap.embeddings",),
    ("wergap.cohorts",),
    ("wergap.discovery",),
    ("wergap.engines",),
    ("wergap.audit",),
    ("wergap.comparison",),
    ("wergap.reports",),
    ("wergap.demo",),
    ("wergap.cli", "wergap.__main__"),
    ("wergap",),  # the public face re-exports everything
]

#: Upward imports that are deliberate, each with its reason. A result object renders
#: itself the way ``DataFrame.to_html`` does: the method imports the renderer on call.
ALLOWED_UPWARD = {
    ("wergap.audit", "wergap.reports.html"): "Audit.to_html renders itself (like DataFrame.to_html)",
    ("wergap.comparison.result", "wergap.reports.compare"): "Comparison.to_html renders itself",
    ("wergap.comparison.systems_result", "wergap.reports.compare_systems"): "SystemsComparison.to_html renders itself",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every wergap module ``path`` imports (absolute or relative), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "wergap"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module.split(".")[0] != "wergap":
                continue
            for alias in node.names:
                # ``from wergap.x import y`` imports submodule ``wergap.x.y`` when there is one
                candidate = f"{module}.{alias.name}"
                path_of = PACKAGE.parent / Path(*candidate.split("."))
                is_module = path_of.with_suffix(".py").exists() or (path_of / "__init__.py").exists()
                found.append((candidate if is_module else module, node.lineno))
    return found


def _floor(module: str) -> int:
    best, level = -1, None
    for i, names in enumerate(FLOORS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, level = len(name), i
    if level is None:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS in tests/test_architecture.py")
    return level


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "templates" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_flow_down(path: Path) -> None:
    here = _module_name(path)
    if here == "wergap":
        return
    mine = _floor(here)
    for module, line in _imports(path):
        assert module != "wergap", f"{here} imports the whole public package (line {line})"
        if (here, module) in ALLOWED_UPWARD:
            continue
        assert _floor(module) <= mine, f"{here} (floor {mine}) imports {module} (floor {_floor(module)}) at line {line}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_private_imports_across_packages(path: Path) -> None:
    """``wergap/x/_y.py`` is private to package ``x``; ground helpers ``wergap/_y.py`` are shared."""
    here = _module_name(path)
    for module, line in _imports(path):
        parts = module.split(".")
        private = [i for i, part in enumerate(parts) if part.startswith("_") and i >= 2]
        for i in private:
            owner = ".".join(parts[:i])
            assert here == owner or here.startswith(owner + "."), (
                f"{here} imports private {module} (line {line}) from another package"
            )


def test_no_import_circle() -> None:
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        here = _module_name(path)
        targets = set()
        for module, _ in _imports(path):
            if (here, module) in ALLOWED_UPWARD:
                continue
            targets.add(module)
        graph[here] = targets
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif state.get(nxt) is None:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)


def test_every_module_has_a_floor() -> None:
    for path in MODULES:
        _floor(_module_name(path))
