"""The import graph of `flan_nb`, read from the source with `ast`, has no cycle.

Every import counts: at module level, inside functions and methods, and under any `if`; so do,
in a module that imports by name (`importlib.import_module`), the strings naming a module
(`"flan_nb.plans"`, `"flan_nb.bench.pack:benchmark"` in the command and benchmark tables).
`from flan_nb import tasks` is an edge to the module `flan_nb.tasks`. Not counted: the parent
packages Python imports before a module (`flan_nb/__init__.py` runs before any of its modules;
counting it would make every module that its `__init__` imports part of a cycle by construction).
Imports inside functions are the listed exceptions only (`LAZY_LIBRARIES`, `LAZY_MODULES`).
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


def _imported(node, module: str, is_package: bool, modules) -> set[str | None]:
    """The modules of `modules` one import statement of `module` names (None: none of them)."""
    if isinstance(node, ast.Import):
        return {_known(alias.name, modules) for alias in node.names}
    base = node.module or ""
    if node.level:  # relative: from the package `level - 1` steps above this one's
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    found = set()
    for alias in node.names:  # `from pkg import mod` names a module, else an attribute
        full = f"{base}.{alias.name}"
        found.add(full if full in modules else _known(base, modules))
    return found


def imports_of(module: str, path: Path, modules) -> set[str]:
    """The modules of `modules` that `module` (at `path`) imports anywhere in its code."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    by_name = any(isinstance(node, ast.Attribute) and node.attr == "import_module"
                  for node in ast.walk(tree))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(_imported(node, module, is_package, modules))
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


def packages_read(root: Path = ROOT, package: str = "flan_nb") -> dict[str, set[str]]:
    """Per module, the packages it reads with `from pkg import name`: pkg's __init__ runs
    first and provides the name, so pkg is a dependency even when the name is a submodule."""
    modules = module_files(root, package)
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    read = {}
    for name, path in modules.items():
        read[name] = {node.module for node in ast.walk(ast.parse(path.read_text(), str(path)))
                      if isinstance(node, ast.ImportFrom) and not node.level
                      and node.module in packages and node.module != name}
    return read


def with_packages(graph: dict[str, set[str]], read: dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: graph[name] | read.get(name, set()) for name in graph}


def test_no_module_reads_back_a_package_that_imports_it():
    cycle = find_cycle(with_packages(import_graph(), packages_read()))
    assert cycle is None, "import cycle through a package: " + " -> ".join(cycle)


def test_reading_a_package_whose_init_imports_the_reader_is_a_cycle(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.a import f\n")
    (package / "a.py").write_text("from pkg import b\n\ndef f():\n    return b\n")
    (package / "b.py").write_text("")
    graph = with_packages(import_graph(tmp_path, "pkg"), packages_read(tmp_path, "pkg"))
    assert find_cycle(graph) == ["pkg", "pkg.a", "pkg"]
    (package / "a.py").write_text("import pkg.b as b\n\ndef f():\n    return b\n")
    graph = with_packages(import_graph(tmp_path, "pkg"), packages_read(tmp_path, "pkg"))
    assert find_cycle(graph) is None


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


# Libraries imported inside functions, for the import costs flan_nb/__init__.py measures, or
# because they are optional (IPython, fsspec, torch).
LAZY_LIBRARIES = {"jax", "flax", "optax", "orbax", "scipy", "rouge_score", "papermill",
                  "matplotlib", "IPython", "etils", "fsspec", "torch"}
# flan_nb modules imported inside functions: the model and the trainer import JAX at their top,
# which checkpoint (imported by formats for its tokenizer), evaluate and prompt_tuning (imported
# by the command line through results) and the benchmarks (which start JAX on every core first)
# must not do at theirs.
LAZY_MODULES = {("flan_nb.checkpoint", "flan_nb.model"), ("flan_nb.bench.pack", "flan_nb.model"),
                ("flan_nb.bench.pack", "flan_nb.train"), ("flan_nb.bench.train", "flan_nb.model"),
                ("flan_nb.bench.train", "flan_nb.train"),
                ("flan_nb.prompt_tuning", "flan_nb.model"), ("flan_nb.evaluate", "flan_nb.model"),
                ("flan_nb.results", "flan_nb.train")}


def function_level_imports(module: str, path: Path, modules) -> list[tuple[int, str]]:
    """(line, name) of each import inside a function of `module`: the flan_nb module it names,
    else the library's top-level name."""
    found = []
    for function in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = _imported(node, module, path.name == "__init__.py", modules) - {None}
                    library = (node.names[0].name if isinstance(node, ast.Import)
                               else node.module or "").split(".")[0]
                    found += [(node.lineno, name) for name in sorted(names or {library})]
    return found


def test_imports_inside_functions_are_the_measured_exceptions():
    """Imports sit at the top of modules (so the graph is readable there), except the libraries
    and modules above; a new exception is added here with its reason."""
    modules = module_files(ROOT, "flan_nb")
    unexplained = [f"{path.relative_to(ROOT)}:{line}: {name}"
                   for module, path in modules.items()
                   for line, name in function_level_imports(module, path, modules)
                   if name not in LAZY_LIBRARIES and (module, name) not in LAZY_MODULES]
    assert not unexplained, unexplained


def test_function_level_imports_are_found(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("import json\n")
    (package / "b.py").write_text(textwrap.dedent("""\
        import os

        def f():
            import json.decoder
            from . import a
            from .a import json as j
            return a, j
        """))
    modules = module_files(tmp_path, "pkg")
    assert function_level_imports("pkg.b", package / "b.py", modules) == [
        (4, "json"), (5, "pkg.a"), (6, "pkg.a")]
