"""The house rules, checked over the project's code (curate/, pipelines/, train/, kernels/):
no import circle between modules, no function over 80 lines and no module over 500, and
the corpus driver (pipelines/corpus.py) reaches the stages only through curate.stages.base
and curate.stages.registry. Each checker is also run on a small tree that breaks its rule."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# folder -> the name its modules are imported under (kernels/ installs as polyglot_kernels)
PACKAGES = {"curate": "curate", "pipelines": "pipelines", "train": "train", "kernels": "polyglot_kernels"}
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 500
DRIVER = "pipelines.corpus"
STAGE_DOORS = {"curate.stages.base", "curate.stages.registry"}  # what the driver may import of the stages


# ---------------------------------------------------------------------------- the checkers
def find_modules(root: Path, packages: dict[str, str]) -> dict[str, Path]:
    """Module name -> file, for every .py file under the folders of `packages`."""
    found = {}
    for folder, name in packages.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = [name, *path.relative_to(root / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is one of `modules`."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in modules:
            return ".".join(parts[:n])
    return None


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict) -> set[str]:
    """The project modules one import statement loads (`from pkg import module` names the module)."""
    if isinstance(node, ast.Import):
        return {m for m in (_known(a.name, modules) for a in node.names) if m}
    if node.level:  # relative: from the module's package, one level up per extra dot
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = ".".join(p for p in (package, node.module) if p)
    else:
        base = node.module or ""
    found = set()
    for alias in node.names:
        target = _known(f"{base}.{alias.name}", modules) if alias.name != "*" else None
        if target != f"{base}.{alias.name}":
            target = _known(base, modules)
        if target:
            found.add(target)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports, at the top or inside a function."""
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= _imported(node, module, path.name == "__init__.py", modules)
        graph[module] = targets - {module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Each group of modules that import one another (strongly connected, Tarjan): a
    shortest circle through its first module ([a, b, a]) and all its members ([a, b, c])."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted((_circle_through(group, graph), sorted(group)) for group in groups)


def _circle_through(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the group's first module back to itself (breadth first)."""
    start = min(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if w not in came_from:
                    came_from[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no circle through {sorted(group)}")


def too_long(modules: dict[str, Path], root: Path) -> list[str]:
    """'path (N lines)' for each module over MAX_MODULE_LINES, 'path:line name (N lines)'
    for each function over MAX_FUNCTION_LINES (from its def to its last line)."""
    offenders = []
    for path in sorted(modules.values()):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        n = len(text.splitlines())
        if n > MAX_MODULE_LINES:
            offenders.append(f"{rel} ({n} lines, at most {MAX_MODULE_LINES})")
        for name, node in _functions(ast.parse(text, filename=str(path))):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                offenders.append(f"{rel}:{node.lineno} {name} ({n} lines, at most {MAX_FUNCTION_LINES})")
    return offenders


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function, methods and nested functions included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def stage_imports_of_driver(graph: dict[str, set[str]]) -> list[str]:
    """The stage modules the corpus driver imports past curate.stages.base and .registry."""
    return sorted(m for m in graph.get(DRIVER, ()) if m.startswith("curate.stages.") and m not in STAGE_DOORS)


# ---------------------------------------------------------------------------- the project
def _project_graph() -> dict[str, set[str]]:
    return import_graph(find_modules(ROOT, PACKAGES))


def test_no_import_circle():
    found = circles(_project_graph())
    assert not found, "import circles (each module imports the next):\n  " + "\n  ".join(
        " -> ".join(circle) + (f" (all of {', '.join(group)} import one another)" if len(group) > 2 else "")
        for circle, group in found
    )


def test_no_function_or_module_too_long():
    offenders = too_long(find_modules(ROOT, PACKAGES), ROOT)
    assert not offenders, "split by responsibility:\n  " + "\n  ".join(offenders)


def test_corpus_driver_imports_no_stage_module():
    offenders = stage_imports_of_driver(_project_graph())
    assert not offenders, (
        f"pipelines/corpus.py imports stage modules {offenders}: reach the stages through "
        f"{sorted(STAGE_DOORS)} (the Stage protocol and the stage table)"
    )


# ---------------------------------------------------------------------------- the checkers catch
def _tree(root: Path, files: dict[str, str], packages: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return find_modules(root, packages)


def test_circle_is_found_through_lazy_relative_and_from_package_imports(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    from pkg import b\n",  # inside a function, `from pkg import module`
        "pkg/b.py": "from .sub.c import x\n",  # relative
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "import pkg.a\nx = 1\n",
        "pkg/d.py": "from pkg.sub import c\nimport json\n",  # an arrow into the circle, none back
        "kern/k1.py": "from . import k2\n",  # a folder installed under another name
        "kern/k2.py": "from kern_installed.k1 import y\n",
    }
    modules = _tree(tmp_path, files, {"pkg": "pkg", "kern": "kern_installed"})
    graph = import_graph(modules)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.sub.c"} and graph["pkg.d"] == {"pkg.sub.c"}
    kern = (["kern_installed.k1", "kern_installed.k2", "kern_installed.k1"], ["kern_installed.k1", "kern_installed.k2"])
    assert circles(graph) == [kern, (["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"], ["pkg.a", "pkg.b", "pkg.sub.c"])]
    (tmp_path / "pkg/sub/c.py").write_text("x = 1\n")
    assert circles(import_graph(modules)) == [kern]


def test_long_function_and_module_are_named(tmp_path):
    fits = "def fits():\n" + "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))
    over = "class C:\n    def method(self):\n" + "".join(f"        y{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    filler = "\n" * (MAX_MODULE_LINES - fits.count("\n") - over.count("\n"))
    modules = _tree(tmp_path, {"pkg/m.py": fits + filler + over}, {"pkg": "pkg"})
    method_line = MAX_MODULE_LINES - MAX_FUNCTION_LINES
    assert too_long(modules, tmp_path) == [f"pkg/m.py:{method_line} C.method (81 lines, at most 80)"]
    (tmp_path / "pkg/m.py").write_text(fits + filler + "\n" + over)  # one line more
    assert too_long(modules, tmp_path) == [
        f"pkg/m.py ({MAX_MODULE_LINES + 1} lines, at most {MAX_MODULE_LINES})",
        f"pkg/m.py:{method_line + 1} C.method (81 lines, at most 80)",
    ]


def test_driver_importing_a_stage_is_named(tmp_path):
    files = {f"curate/stages/{m}.py": "" for m in ("__init__", "base", "registry", "pii", "quality")}
    files["curate/__init__.py"] = ""
    files["pipelines/corpus.py"] = (
        "from curate.stages.base import Stage\nfrom curate.stages import registry, pii\n"
        "def run():\n    from curate.stages.quality import make_stage\n"
    )
    graph = import_graph(_tree(tmp_path, files, {"curate": "curate", "pipelines": "pipelines"}))
    assert stage_imports_of_driver(graph) == ["curate.stages.pii", "curate.stages.quality"]
    (tmp_path / "pipelines/corpus.py").write_text("from curate.stages import base, registry\n")
    graph = import_graph(_tree(tmp_path, {}, {"curate": "curate", "pipelines": "pipelines"}))
    assert graph[DRIVER] == STAGE_DOORS and stage_imports_of_driver(graph) == []
