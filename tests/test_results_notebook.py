"""The results notebook run on results that exist: `reproduce` on planted data (three models, the tiny plan, in this
process: no Ray outside a loopback-only namespace), then 39_results on them, which must show every table and figure
rather than 'not reproduced yet'; and `--from-results` rebuilds Tables 2 and 3 from the run records byte for byte."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_results_notebook_on_planted(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ADDRL_CACHE_DIR": str(tmp_path / "cache")}
    addrl = Path(sys.executable).with_name("addrl")
    res = subprocess.run([str(addrl), "reproduce", "--dataset", "planted", "--profile", "tiny", "--models", "popularity,bprmf,addrl",
                          "--out-dir", str(tmp_path / "figures"), "--runs-dir", str(tmp_path / "runs"),
                          "--results-dir", str(tmp_path / "results"), "--workers", "1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert res.returncode == 0, res.stderr[-4000:]
    out = tmp_path / "39.ipynb"
    res = subprocess.run([sys.executable, "-m", "papermill", "nbs/39_results.ipynb", str(out), "--cwd", "nbs", "--no-progress-bar", "-k", "python3",
                          "-p", "out_dir", str(tmp_path / "figures"), "-y", "datasets: [planted]"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    text = json.dumps([c.get("outputs", []) for c in json.loads(out.read_text())["cells"]])
    assert "not reproduced yet" not in text and "AD-DRL" in text and "figure5_controllability" in text
    assert "lack against the paper" in text and (tmp_path / "figures/planted/data_differences.csv").exists()
    rebuilt = subprocess.run([str(addrl), "reproduce", "--dataset", "planted", "--profile", "tiny", "--models", "popularity,bprmf,addrl",
                              "--from-results", "--results-dir", str(tmp_path / "results"), "--out-dir", str(tmp_path / "rebuilt")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rebuilt.returncode == 0, rebuilt.stderr[-4000:]
    for name in ("table2.csv", "table3.csv"):
        assert (tmp_path / "rebuilt/planted" / name).read_bytes() == (tmp_path / "figures/planted" / name).read_bytes(), name
