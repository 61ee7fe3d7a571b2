"""The library's public faces (issue 27), read from the source (ast) and from the imported packages.

Every cnnlib module (recursively) declares `__all__`: a list of names it defines itself (no
re-export), none private. Each package's `__all__` is exactly the union of its modules' `__all__`
(its `__init__` star-imports them), so a name is written once, in its own module. The top package
`cnnlib` is a map of packages, not a face: importing it imports nothing else.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

from tests.conftest import ROOT

LIBRARY = ROOT / "cnnlib"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def defined_names(tree: ast.Module) -> set[str]:
    """Names bound at a module's top level by a def, a class or an assignment (not by an import)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def declared_all(tree: ast.Module) -> list[str] | None:
    """A module's literal `__all__` (a list of strings), or None where it has none."""
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == "__all__" and node.value is not None:
            value = ast.literal_eval(node.value)
            assert isinstance(value, list), f"__all__ is not a list: {value!r}"
            return value
    return None


@functools.cache
def library_modules() -> dict[str, ast.Module]:
    """Every module of cnnlib that is not a package's __init__, by dotted name."""
    return {
        module_name(path): ast.parse(path.read_text(), filename=str(path))
        for path in sorted(LIBRARY.rglob("*.py"))
        if path.name != "__init__.py"
    }


def packages() -> list[str]:
    """Every package below cnnlib itself (cnnlib.spec, cnnlib.training.one_step, ...)."""
    return sorted(module_name(p) for p in LIBRARY.rglob("__init__.py") if p.parent != LIBRARY)


def test_the_walk_sees_modules_and_nested_packages():
    mods = library_modules()
    assert {"cnnlib.device", "cnnlib.trained", "cnnlib.kernels.convolution"} <= set(mods)
    assert "cnnlib.training.one_step.run" in mods
    assert {"cnnlib.spec", "cnnlib.training", "cnnlib.training.one_step"} <= set(packages())


def test_every_module_declares_its_own_names_none_private():
    missing, foreign, private, twice = [], [], [], []
    for name, tree in library_modules().items():
        names = declared_all(tree)
        if names is None:
            missing.append(name)
            continue
        foreign += [f"{name}.{n}" for n in sorted(set(names) - defined_names(tree))]
        private += [f"{name}.{n}" for n in names if n.startswith("_")]
        twice += [f"{name}.{n}" for n in set(names) if names.count(n) > 1]
    assert not missing, f"modules without __all__: {missing}"
    assert not foreign, f"__all__ names a module does not define (import it from its home): {foreign}"
    assert not private, f"private names in __all__: {private}"
    assert not twice, f"names listed twice: {twice}"


def test_each_package_exports_exactly_its_modules_names():
    mods = library_modules()
    for package in packages():
        face = importlib.import_module(package)
        own = [m for m in mods if m.rpartition(".")[0] == package]
        union = [n for m in own for n in declared_all(mods[m]) or []]
        assert sorted(face.__all__) == sorted(union), package
        assert len(set(union)) == len(union), f"{package}: two modules export the same name"
        for module in own:
            for n in declared_all(mods[module]) or []:
                assert getattr(face, n) is getattr(importlib.import_module(module), n), f"{package}.{n}"
        assert not any(n.startswith("_") for n in face.__all__), package


def test_the_package_init_lists_no_name_itself():
    """An __init__ star-imports its modules and builds __all__ from theirs: no name written twice."""
    for package in packages():
        path = LIBRARY.joinpath(*package.split(".")[1:], "__init__.py")
        tree = ast.parse(path.read_text())
        named = [
            f"{node.module}: {a.name}"
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnnlib")
            for a in node.names
            if a.name != "*" and f"{node.module}.{a.name}" not in library_modules()
        ]
        assert not named, f"{package}/__init__.py imports names one by one: {named}"
        built = [
            n.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "__all__"
        ]
        assert len(built) == 1 and isinstance(built[0], ast.List), (
            f"{package}/__init__.py: one __all__ = [...]"
        )
        by_hand = [ast.unparse(e) for e in built[0].elts if not ast.unparse(e).endswith(".__all__")]
        assert not by_hand, f"{package}/__init__.py writes names into __all__ by hand: {by_hand}"


def test_the_top_package_maps_every_package_and_module():
    """cnnlib/__init__.py's docstring names every package and top-level module (share, trained, ...)."""
    doc = ast.get_docstring(ast.parse((LIBRARY / "__init__.py").read_text())) or ""
    children = [p.stem for p in LIBRARY.glob("*.py") if p.stem != "__init__"]
    children += [p.parent.name for p in LIBRARY.glob("*/__init__.py")]
    missing = [c for c in sorted(children) if f"cnnlib.{c}" not in doc]
    assert not missing, f"cnnlib/__init__.py's docstring does not name: {missing}"
