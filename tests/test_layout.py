"""The module boundaries, read from the source with ast: every import runs one way (no circle among the modules
of landscape, proofs_check and figures), and no private name is used outside the module that defines it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("landscape", "proofs_check", "figures")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _absolute(module: str, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _imports(module: str, tree: ast.AST) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import in the file, function bodies included."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node.level, node.module)
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:
                    out.append((f"{source}.{alias.name}", None, node.lineno))
                else:
                    out.append((source, alias.name, node.lineno))
    return [(m, name, line) for m, name, line in out if m.split(".")[0] in PACKAGES]


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        edges = set()
        for target, _, _ in _imports(module, ast.parse(path.read_text())):
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module and not module.startswith(target + "."):
                edges.add(target)
        graph[module] = edges
    return graph


def test_no_import_circle_among_the_modules():
    graph = _graph()
    state, stack, circles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "import circles: " + "; ".join(" → ".join(c) for c in circles)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_here(tree: ast.AST) -> set[str]:
    """Every name a module defines: functions, classes, assignments, attributes it sets on any object."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def test_no_private_name_is_used_outside_its_module():
    problems = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        top = module.split(".")[0]
        modules_bound = {}
        for target, name, line in _imports(module, tree):
            if name is None:
                if _private(target.rsplit(".", 1)[-1]) and target.split(".")[0] != top:
                    problems.append(f"{module}:{line} imports the private module {target}")
            elif _private(name):
                problems.append(f"{module}:{line} imports the private name {name} from {target}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    modules_bound[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom):  # from .. import validate: a module of this package
                source = top if node.level else (node.module or "")
                for alias in node.names:
                    modules_bound[alias.asname or alias.name] = f"{source}.{alias.name}"
        here = _defined_here(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in here:
                base = node.value.id if isinstance(node.value, ast.Name) else None
                if base in ("self", "cls"):
                    continue
                if base in modules_bound and modules_bound[base].split(".")[0] not in PACKAGES:
                    continue  # another library's documented name, os._exit say
                problems.append(f"{module}:{node.lineno} uses {ast.unparse(node)}, private to another module")
    assert not problems, "\n".join(problems)
