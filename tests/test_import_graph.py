"""The import graph of `flan_nb`, read from the source with `ast`, has no cycle.

Every import counts: at module level, inside functions and methods, and under any `if`; so do,
in a module that imports by name (`importlib.import_module`), the strings naming a module
(`"flan_nb.plans"`, `"flan_nb.bench.pack:benchmark"` in the command and benchmark tables).
`from flan_nb import tasks` is an edge to the module `flan_nb.tasks`. Not counted: the parent
packages Python imports before a module (`flan_nb/__init__.py` runs before any of its modules;
counting it would make every module that its `__init__` imports part of a cycle by construction).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"flan_nb.tfds_data", "flan_nb.collection", "flan_nb.sources", "flan_nb.tinyworld"}


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of `package` under `root`."""
    files = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def _known(name: str, modules) -> str | None:
    """`name` or its closest enclosing module that exists (`a.b.func` -> `a.b`), else None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path, modules) -> set[str]:
    """The modules of `modules` that `module` (at `path`) imports anywhere in its code."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    by_name = any(isinstance(node, ast.Attribute) and node.attr == "import_module"
                  for node in ast.walk(tree))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(_known(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package `level - 1` steps above this one's
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            for alias in node.names:  # `from pkg import mod` names a module, else an attribute
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else _known(base, modules))
        elif by_name and isinstance(node, ast.Constant) and isinstance(node.value, str):
            named = node.value.split(":")[0]  # "pkg.module" or "pkg.module:function"
            if named in modules:
                found.add(named)
    found.discard(None)
    found.discard(module)
    return found


def import_graph(root: Path = ROOT, package: str = "flan_nb") -> dict[str, set[str]]:
    modules = module_files(root, package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None when the graph is acyclic."""
    done, stack, on_stack = set(), [], set()

    def visit(node):
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_stack:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in done and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)):
            return cycle
    return None


def test_flan_nb_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert "flan_nb.templates" in graph["flan_nb.tasks"]  # module level, `from x import name`
    assert "flan_nb.tasks" in graph["flan_nb.tinyworld.source"]  # `from flan_nb import tasks`
    assert "flan_nb.model" in graph["flan_nb.checkpoint"]  # inside a function
    assert "flan_nb.bench.pack" in graph["flan_nb.bench"]  # named in a table of strings
    assert "flan_nb.pipeline" in graph["flan_nb.bench.pack"]


def test_the_registry_imports_no_data_source():
    imported = import_graph()["flan_nb.tasks"]
    assert not {m for m in imported if _known(m, SOURCES)}, imported


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text(textwrap.dedent("""\
        def late():
            from .. import a
            return a
        """))
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]
    (package / "sub" / "b.py").write_text("import pkg.sub\n")
    assert find_cycle(import_graph(tmp_path, "pkg")) is None
