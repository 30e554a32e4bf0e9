"""The package's shape: no import cycle between its modules, and no function-level import of one of its own modules
(the one deliberate exception is the discovery of model modules, which imports what it finds)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "addrl_nb"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def own_imports(path: Path):
    "(module-level imports, function-level imports) of addrl_nb modules in `path`, as absolute module names."
    tree, me = ast.parse(path.read_text()), module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    top, inner = set(), set()
    def target(node):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            return [base] if base.startswith("addrl_nb") else []
        if isinstance(node, ast.Import): return [a.name for a in node.names if a.name.startswith("addrl_nb")]
        return []
    for node in tree.body:
        top.update(target(node))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node): inner.update(target(sub))
    return {m for m in top if m != me}, inner


MODULES = {module_name(p): p for p in PKG.rglob("*.py") if p.name != "_modidx.py"}


def test_no_import_cycle():
    graph = {m: {t for t in own_imports(p)[0] if t in MODULES and t != "addrl_nb"} for m, p in MODULES.items()}
    state, stack = {}, []
    def visit(m):
        state[m] = "open"; stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == "open": raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state: visit(t)
        state[m] = "done"; stack.pop()
    for m in sorted(graph):
        if m not in state: visit(m)


def test_no_function_level_import_of_own_modules():
    found = {m: sorted(own_imports(p)[1]) for m, p in MODULES.items() if own_imports(p)[1]}
    assert not found, f"function-level imports of the package's own modules (move them to the top): {found}"


def test_lines_at_most_120_characters():
    "Every line of the package fits 120 columns, but the first line of nbdev's generated `__all__` (nbdev wraps the names at 120, then prefixes `__all__ = `)."
    long = [f"{p.relative_to(ROOT)}:{i}" for p in PKG.rglob("*.py") if p.name != "_modidx.py"
            for i, line in enumerate(p.read_text().splitlines(), 1) if len(line) > 120 and not line.startswith("__all__ = [")]
    assert not long, f"lines over 120 characters (wrap them in the notebook cell that exports them): {long[:10]}"



def _library_notebooks():
    "The notebooks tools/execute_notebooks.py executes (its own list, not a copy of its rule), with their cells."
    import importlib.util, json
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "tools" / "execute_notebooks.py")
    tool = importlib.util.module_from_spec(spec); spec.loader.exec_module(tool)
    return [(p, json.loads(p.read_text())["cells"]) for p in tool.library_notebooks()]


def _shows_something(source: str) -> bool:
    "A cell that always prints: a top-level print(...), or a last line that is a bare name, attribute or subscript."
    lines = [line for line in source.splitlines() if not line.startswith(("#|", "%", "!"))]
    flags = [line[2:].replace(" ", "").lower() for line in source.splitlines() if line.startswith("#|")]
    if any(f in ("slow", "gpu", "ray", "export", "eval:false") for f in flags): return False   # not executed
    try: tree = ast.parse("\n".join(lines))
    except SyntaxError: return False
    if not tree.body: return False
    last = tree.body[-1]
    bare = isinstance(last, ast.Expr) and isinstance(last.value, (ast.Name, ast.Attribute, ast.Subscript))
    prints = any(isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and getattr(n.value.func, "id", "") == "print"
                 for n in tree.body)
    return bare or prints


def test_library_notebooks_are_committed_executed():
    ("The library notebooks are committed with their outputs (`python tools/execute_notebooks.py`), so a reader on "
     "the web sees what each cell shows: every cell that always shows something has an output.")
    empty = [f"{p.name} cell {c.get('id')}" for p, cells in _library_notebooks() for c in cells
             if c["cell_type"] == "code" and _shows_something("".join(c["source"])) and not c.get("outputs")]
    assert not empty, f"cells committed without their outputs (run tools/execute_notebooks.py): {empty[:10]}"


def test_committed_outputs_are_deterministic_text():
    "No progress bar, temporary path, memory address or execution count in a committed output."
    import re
    volatile = re.compile(r"\r|it/s\]|/tmp/|0x[0-9a-f]{8,}")
    found = []
    for p, cells in _library_notebooks():
        for c in cells:
            if c["cell_type"] != "code": continue
            if c.get("execution_count") is not None: found.append(f"{p.name} cell {c.get('id')}: execution count")
            for out in c.get("outputs", []):
                text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
                if volatile.search(text): found.append(f"{p.name} cell {c.get('id')}: {volatile.search(text)[0]!r}")
    assert not found, f"volatile outputs (re-run tools/execute_notebooks.py): {found[:10]}"


TORCH = ("torch", "transformers", "sentence_transformers")   # what loads torch's OpenMP when imported


def imports_in_order(path: Path) -> list[str]:
    "The module-level imports of `path` in order, each 'torch' or one of the package's modules."
    tree, me = ast.parse(path.read_text()), module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import): names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [base]
        else: continue
        out += ["torch" if n.split(".")[0] in TORCH else n for n in names if n.split(".")[0] in TORCH + ("addrl_nb",)]
    return out


def test_core_is_imported_before_torch():
    ("Importing any module runs addrl_nb.core before torch (directly or through another of the package's modules): core "
     "sets OpenMP's wait policy, which OpenMP reads once, when torch loads it.")
    order = {m: imports_in_order(p) for m, p in MODULES.items()}
    memo = {}
    def core_first(m):   # True: core runs first; False: torch does; None: neither is imported
        if m == "addrl_nb.core": return True
        if m not in memo:
            memo[m] = None
            for t in order.get(m, []):
                found = False if t == "torch" else core_first(t)
                if found is not None: memo[m] = found; break
        return memo[m]
    late = sorted(m for m in MODULES if core_first(m) is False)
    assert not late, f"these modules import torch before addrl_nb.core (import core, or a module that does, first): {late}"
