"""No project module imports itself through any chain of imports.

Read from the source, not from a running interpreter: every `import` and `from ... import` of
every project module counts, at module level or inside a function (a lazy import only moves the
circle to run time). Importing `a.b.c` runs the packages `a` and `a.b` first, so they count as
imported too, except a module's own packages: they have started running before the module does.
A name taken from one of them (`from a.b import name` inside `a.b.c`) still counts, since it needs
the package's `__init__` to have got that far.
"""

import ast
from pathlib import Path

from django.conf import settings

PROJECT = Path(settings.BASE_DIR)
SKIPPED_DIRECTORIES = {".venv", ".git", "node_modules", "var", "static", "__pycache__"}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = PROJECT) -> dict[str, Path]:
    """Every Python module of the project by dotted name: packages, their modules, and the
    scripts at the top (manage.py, conftest.py)."""
    modules = {}
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if SKIPPED_DIRECTORIES.intersection(relative.parts[:-1]):
            continue
        modules[_module_name(path, root)] = path
    return modules


def _with_packages(name: str) -> list[str]:
    """`a.b.c` runs `a`, `a.b` and `a.b.c`."""
    parts = name.split(".")
    return [".".join(parts[: end + 1]) for end in range(len(parts))]


def _imported_names(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    own_packages = set(_with_packages(module))
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.update(_with_packages(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.update(_with_packages(base)[:-1])
            # `from a.b import c` imports the module a.b.c when there is one, else takes the
            # name c from a.b.
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    names.add(submodule)
                else:
                    names.add(base)
                    own_packages.discard(base)
    return {name for name in names if name in modules and name not in own_packages}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {module: _imported_names(module, path, modules) for module, path in modules.items()}


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative),
    each sorted; a group is a set of modules that import one another through some chain."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = lowest[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = lowest[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    lowest[node] = min(lowest[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowest[parent] = min(lowest[parent], lowest[node])
                if lowest[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        circles.append(sorted(group))
    return circles


def _chain(graph: dict[str, set[str]], circle: list[str]) -> str:
    """One path around the circle, to show where it closes."""
    members = set(circle)
    start = circle[0]
    path = [start]
    seen = {start}
    node = start
    while True:
        following = sorted(graph[node] & members)
        if start in following and len(path) > 1:
            return " -> ".join([*path, start])
        unvisited = [name for name in following if name not in seen]
        if not unvisited:
            return " -> ".join([*path, "..."])
        node = unvisited[0]
        path.append(node)
        seen.add(node)


def test_no_project_module_imports_itself_through_a_chain_of_imports():
    graph = import_graph(project_modules())

    circles = import_circles(graph)

    assert circles == [], "\n".join(_chain(graph, circle) for circle in circles)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_circle_finder_sees_lazy_imports_relative_imports_and_package_names(tmp_path):
    # The finder itself, on a small project: a circle closed by an import inside a function and
    # a relative import is found, and so is a module that takes a name from its package's
    # __init__ while that __init__ imports it; a sibling imported by its whole path is not one.
    _write(
        tmp_path,
        {
            "shop/__init__.py": "from shop.orders import order_place\n",
            "shop/orders.py": "from .stock import stock_take\n\ndef order_place():\n    pass\n",
            "shop/stock.py": "def stock_take():\n    from shop import orders\n",
            "shop/prices.py": "from shop.stock import stock_take\n",
            "till/__init__.py": "WIDTH = 42\nfrom till.drawer import drawer_open\n",
            "till/drawer.py": "from till import WIDTH\n\ndef drawer_open():\n    pass\n",
            "till/counter.py": "import till.drawer\n",
        },
    )

    graph = import_graph(project_modules(tmp_path))

    assert sorted(import_circles(graph)) == [["shop.orders", "shop.stock"], ["till", "till.drawer"]]
    assert graph["shop.prices"] == {"shop.stock"}
    assert graph["till.counter"] == {"till.drawer"}
