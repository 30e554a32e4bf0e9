"""The engine on a real Ray cluster, inside a network namespace that has only loopback (on the development and CI
machines Ray binds to the external interface even when told 127.0.0.1, and no test may send traffic anywhere else).
Needs root for `unshare -n` (CI runs as root)."""
import ipaddress, json, os, shutil, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def loopback(addr: str) -> bool:
    a = addr.strip("[]").split("%")[0]
    if a in ("*", "0.0.0.0", "::"): return True       # a wildcard bind: in this namespace the only interface is lo
    a = a.removeprefix("::ffff:")
    return ipaddress.ip_address(a).is_loopback


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.fail("the engine test needs root and unshare(1) to run Ray in a loopback-only network namespace")
    out = tmp_path_factory.mktemp("engine")
    cmd = f"ip link set lo up && exec {sys.executable} {ROOT / 'tests' / 'engine_cluster.py'} {out}"
    res = subprocess.run(["unshare", "-n", "sh", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=1500,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"})
    assert res.returncode == 0, f"engine_cluster.py failed:\n{res.stdout[-4000:]}\n{res.stderr[-8000:]}"
    return out, json.loads((out / "report.json").read_text())


def test_cluster_of_two_loopback_nodes(report):
    _, r = report
    assert len(r["nodes"]) == 2 and all(n["alive"] and n["ip"] == "127.0.0.1" for n in r["nodes"]), r["nodes"]
    assert {l.split()[1] for l in r["interfaces"].splitlines()} == {"lo"}, r["interfaces"]
    bad = [a for a in r["sockets"] if not loopback(a)]
    assert r["sockets"] and not bad, f"sockets off the loopback range: {bad}"


def test_plan_over_both_nodes(report):
    out, r = report
    lines = r["reproduce"]["lines"]
    assert len(lines) == 6, lines
    nodes = {l.rsplit("node ", 1)[1].rstrip(")") for l in lines}
    assert len(nodes) == 2, f"the 6 runs ran on {nodes}, not on both nodes"
    table = pd.read_csv(out / "figures" / "planted" / "table2.csv", index_col=0)
    assert list(table.index) == ["Popularity", "BPR-MF"] and (table["seeds"] == 3).all()
    # every run of the plan has its record (the tune below adds the tuned configuration's, on seed 0)
    recorded = set()
    for config in (out / "results" / "planted").glob("*/*/config.json"):
        if (config.parent / "per_user_test.parquet").exists():
            c = json.loads(config.read_text()); recorded.add((c["model"], c["train"]["seed"]))
    assert recorded == {(m, s) for m in ("popularity", "bprmf") for s in range(3)}, recorded


def test_killed_worker_resumes_to_the_same_metrics(report):
    _, r = report
    k = r["kill"]
    assert k["killed"].get("pid") and 2 <= k["killed"]["at_pass"] < 16, k["killed"]      # killed mid-run
    assert k["after_kill"] == k["uninterrupted"] and k["history_equal"]


def test_tune_ends_with_the_best_yaml(report):
    out, r = report
    trials = pd.read_csv(out / "tune" / "trials.csv")
    assert len(trials) == 8 and trials["valid_recall@20"].notna().all()
    assert trials["valid_recall@20"].is_monotonic_decreasing
    best = yaml.safe_load((out / "tune" / "best.yaml").read_text())
    assert best["model"] == "bprmf" and set(best["settings"]) == {"dim", "reg", "lr"}     # bprmf.yaml's search
    row = trials.iloc[0]
    assert all(row[k] == v for k, v in best["settings"].items())
    assert "recall@20" in r["train_best"]
    seeds = pd.read_csv(out / "tune" / "then_seeds.csv")        # the best and the preset, tested on seed 0
    assert sorted(zip(seeds["config"], seeds["seed"])) == [("preset", 0), ("tuned", 0)]
    assert seeds["test_recall"].between(0.05, 1).all()


def test_stops_only_its_own_nodes(report):
    "The test's nodes stop by their own temp folder, not `ray stop` (which stops every Ray process on the machine)."
    _, r = report
    assert r["ray_left"] == [], f"Ray processes of the test still running: {r['ray_left']}"
    # a process titled as a Ray worker but outside the test's nodes, started before them, outlives them untouched
    assert r["bystander_alive"], "the test stopped a Ray-titled process that was not its own"
