"""Every notebook is a test (one thread each: pytest runs two at a time on two cores). Library notebooks run under nbdev_test (cells flagged `slow`/`gpu` are skipped);
experiment notebooks (those with a papermill `parameters` cell) run under papermill with their default, tiny
parameters on planted data. Outputs (runs, caches, figures) go to one temporary folder per session, never into the
repository."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.relative_to(ROOT / "nbs").as_posix() for p in (ROOT / "nbs").rglob("*.ipynb")
                   if not any(part.startswith((".", "_")) for part in p.relative_to(ROOT / "nbs").parts))


def is_experiment(notebook: str) -> bool:
    cells = json.loads((ROOT / "nbs" / notebook).read_text())["cells"]
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)


@pytest.fixture(scope="session")
def work_dirs(tmp_path_factory):
    base = Path(os.environ.get("ADDRL_TEST_DIR") or tmp_path_factory.getbasetemp().parent / "addrl-session")
    dirs = {k: base / k for k in ("runs", "cache", "figures", "executed")}
    for d in dirs.values(): d.mkdir(parents=True, exist_ok=True)
    return dirs


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook(notebook, work_dirs):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ADDRL_RUNS_DIR": str(work_dirs["runs"]),
           "ADDRL_FIGURES_DIR": str(work_dirs["figures"]), "ADDRL_CACHE_DIR": os.environ.get("ADDRL_CACHE_DIR", str(work_dirs["cache"]))}
    if is_experiment(notebook):
        out = work_dirs["executed"] / Path(notebook).name
        cmd = [sys.executable, "-m", "papermill", f"nbs/{notebook}", str(out), "--cwd", "nbs", "--no-progress-bar", "-k", "python3"]
        res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
        assert res.returncode == 0, f"{notebook} failed under papermill:\n{res.stdout[-3000:]}\n{res.stderr[-8000:]}"
    else:
        nbdev_test = Path(sys.executable).with_name("nbdev_test")
        flags = os.environ.get("ADDRL_TEST_FLAGS", "").split()        # `make test-slow` sets slow: the cells flagged `#| slow` run too
        res = subprocess.run([str(nbdev_test), "--path", f"nbs/{notebook}", "--n_workers", "0", *(["--flags", " ".join(flags)] if flags else [])], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=1200)
        assert res.returncode == 0 and "Success" in res.stdout, f"{notebook} failed:\n{res.stdout[-4000:]}\n{res.stderr[-8000:]}"
