"""Execute the library notebooks in place on planted data, so the committed notebooks show every table, print and
plot their cells make (as fastai commits its notebooks).

    python tools/execute_notebooks.py                 # every library notebook (not the papermill experiments)
    python tools/execute_notebooks.py 04_metrics 08_addrl
    python tools/execute_notebooks.py --check         # execute into a scratch copy; exit 1 if any output would change

The outputs are deterministic: the environment is the test suite's (one thread, PYTHONHASHSEED=0, runs, caches and
figures in one scratch folder that is emptied first), progress bars are off (TQDM_DISABLE=1), and the scratch
folder's path (one per notebook) is written as `<scratch>` wherever an output shows it, and any other temporary
path as `<tmp>/...` with the random part of each folder name as `...`. Cells flagged `#| slow`, `#| gpu` or `#| ray`
are not executed (they keep no output), as under `nbdev_test`. `nbdev_clean` runs on each notebook afterwards.
`--check` compares text outputs only (images are compared by presence), so it names the cell whose text moved.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
SCRATCH = Path(tempfile.gettempdir()) / "addrl-notebook-outputs"
SKIP_FLAGS = ("slow", "gpu", "ray")


def is_experiment(path: Path) -> bool:
    "A papermill experiment notebook (a `parameters` cell): executed by `reproduce`, not here."
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in json.loads(path.read_text())["cells"])


def library_notebooks() -> list[Path]:
    return sorted(p for p in NBS.glob("*.ipynb") if not is_experiment(p) and p.name != "index.ipynb")


def _env(scratch: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "TQDM_DISABLE": "1", "ADDRL_RUNS_DIR": str(scratch / "runs"), "ADDRL_FIGURES_DIR": str(scratch / "figures"),
           "ADDRL_CACHE_DIR": str(scratch / "cache"), "MPLBACKEND": "agg"}
    env.setdefault("ADDRL_DATA_DIR", str((ROOT.parent / "shared" / "data").resolve()))
    return env


_CHILD = r'''
import re, sys, tempfile
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
src, dest, scratch, skip = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[4].split(","))
nb = read_nb(src)
def flags(cell):
    return {w for line in cell.source.splitlines() if line.startswith("#|") for w in line[2:].split()[:1]}
def no_eval(cell):
    if cell.cell_type != "code": return True
    if "nbdev_export(" in cell.source: return True
    if re.search(r"^#\|\s*eval:\s*false", cell.source, re.M | re.I): return True
    return bool(flags(cell) & skip)
for cell in nb.cells:
    if cell.cell_type == "code": cell.outputs, cell.execution_count = [], None
shell = CaptureShell(src)
shell.run_all(nb, exc_stop=True, preproc=no_eval)
TMP = re.escape(tempfile.gettempdir())
def _path(m):   # a temporary path: mkdtemp's 8 random characters in each folder name written as ...
    return "<tmp>" + re.sub(r"/((?:tmp|[^/]*[-_])?)[a-z0-9_]{8}(?=/|$)", r"/\1...", m.group(1))
def scrub(text): return re.sub(TMP + r"(/[^\s'\"]*)", _path, text.replace(scratch, "<scratch>"))
for cell in nb.cells:
    for out in cell.get("outputs", []):
        if "text" in out: out["text"] = [scrub(t) for t in out["text"]] if isinstance(out["text"], list) else scrub(out["text"])
        for kind, value in out.get("data", {}).items():
            if kind.startswith("text/"):
                out["data"][kind] = [scrub(t) for t in value] if isinstance(value, list) else scrub(value)
write_nb(nb, dest)
'''


def execute(path: Path, dest: Path, scratch: Path) -> None:
    "Execute `path` into `dest` with a fresh scratch folder; raise with the notebook's traceback if a cell fails."
    shutil.rmtree(scratch, ignore_errors=True)
    for sub in ("runs", "cache", "figures"): (scratch / sub).mkdir(parents=True)
    res = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(dest), str(scratch), ",".join(SKIP_FLAGS)],
                         cwd=NBS, env=_env(scratch), capture_output=True, text=True)
    if res.returncode != 0: raise RuntimeError(f"{path.name} failed:\n{res.stderr[-6000:]}")
    subprocess.run([str(Path(sys.executable).with_name("nbdev_clean")), "--fname", str(dest)], cwd=ROOT, check=True)


def text_outputs(path: Path) -> list:
    "Each code cell's outputs as comparable text: streams and text/plain, images as a placeholder."
    cells = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code": continue
        shown = []
        for out in cell.get("outputs", []):
            if "text" in out: shown.append("".join(out["text"]))
            data = out.get("data", {})
            if "text/plain" in data: shown.append("".join(data["text/plain"]))
            shown += [f"<{k}>" for k in data if k.startswith("image/")]
        cells.append((cell.get("id", "?"), "".join(cell["source"])[:60], shown))
    return cells


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="names (with or without .ipynb); default: every library notebook")
    ap.add_argument("--jobs", type=int, default=1, help="notebooks executed at once (each on one thread)")
    ap.add_argument("--check", action="store_true", help="execute into scratch copies and report outputs that move")
    args = ap.parse_args(argv)
    paths = [NBS / (n if n.endswith(".ipynb") else n + ".ipynb") for n in args.notebooks] or library_notebooks()
    for p in paths:
        if not p.exists(): ap.error(f"no notebook {p.relative_to(ROOT)}: give a name from nbs/ (e.g. 04_metrics)")
    def one(p: Path) -> list[str]:
        dest = SCRATCH.with_name(SCRATCH.name + "-check") / p.name if args.check else p
        dest.parent.mkdir(parents=True, exist_ok=True)
        if args.check: shutil.copy(p, dest)
        execute(dest, dest, SCRATCH / p.stem)
        print(f"{p.name}: executed", flush=True)
        if not args.check: return []
        return [f"{p.name} cell {cid} ({src.splitlines()[0] if src else ''!r})"
                for (cid, src, old), (_, _, new) in zip(text_outputs(p), text_outputs(dest)) if old != new]
    with ThreadPoolExecutor(args.jobs) as pool:      # each notebook is its own process with its own scratch folder
        moved = [m for found in pool.map(one, paths) for m in found]
    shutil.rmtree(SCRATCH, ignore_errors=True)
    if moved: print("outputs that moved on re-execution:\n  " + "\n  ".join(moved))
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
