"""The code's layout, read from the source (ast), imports inside functions included: no import circle
between the project's modules (cnnlib and pages/ui, recursively), no streamlit anywhere in cnnlib,
no private name imported from another module, and every module has a docstring.

`pkgutil.iter_modules` sees one folder level and no function-level import; this walks every file.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("cnnlib", "pages/ui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            out[module_name(path)] = path
    return out


@functools.cache
def tree_of(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def imports(path: Path, name: str, known: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import in the file, at any depth."""
    tree = tree_of(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [a.name for a in node.names]
            # `from pages.ui.classes import seat`: each name may be a module of its own
            subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            found += [(s, [], node.lineno) for s in subs]
            rest = [n for n in names if f"{base}.{n}" not in known]
            if rest:
                found.append((base, rest, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for target, _, _ in imports(path, name, known):
            # an import of a package's module also runs the package's __init__: the module is the edge
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_function_level_imports_and_nested_packages():
    known = modules()
    assert "cnnlib.training.one_step" in known or any(m.startswith("cnnlib.training.one_step") for m in known)
    assert "pages.ui.training.live" in known
    edges = graph()
    assert "pages.ui.resources" in edges["pages.ui.classes.ready"]  # imported inside a function


def test_no_import_circle():
    found = cycles(graph())
    assert not found, f"import circles: {found}"


def test_cnnlib_never_imports_streamlit():
    known = modules()
    bad = [
        f"{name}:{line}"
        for name, path in known.items()
        if name.startswith("cnnlib")
        for target, _, line in imports(path, name, known)
        if target == "streamlit" or target.startswith("streamlit.")
    ]
    assert not bad, bad


def test_no_private_name_crosses_modules():
    known = modules()
    bad = []
    for name, path in known.items():
        for target, names, line in imports(path, name, known):
            if target.split(".")[0] not in ("cnnlib", "pages"):
                continue
            bad += [f"{name}:{line} {target}.{n}" for n in names if n.startswith("_") and n != "__version__"]
    assert not bad, bad


def test_every_module_has_a_docstring():
    missing = [
        name
        for name, path in modules().items()
        if path.read_text().strip() and ast.get_docstring(tree_of(path)) is None
    ]
    assert not missing, missing
