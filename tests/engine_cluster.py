"""The engine on a real two-node Ray cluster; run by tests/test_engine.py INSIDE a loopback-only network namespace
(`unshare -n sh -c 'ip link set lo up; python tests/engine_cluster.py OUT'`), never directly on a networked machine.

Starts a head and a second node with `ray start`, runs a 6-run plan through `addrl reproduce --address`, kills a
worker mid-run (Ray retries it; the retry resumes from the checkpoint), runs `addrl tune` with 8 trials and ASHA,
records every socket open while the cluster is up, stops both nodes, and writes what it saw to OUT/report.json."""
import json, os, re, secrets, signal, subprocess, sys, tempfile, threading, time
from pathlib import Path

OUT = Path(sys.argv[1]); OUT.mkdir(parents=True, exist_ok=True)
BIN = Path(sys.executable).parent
PORT = "6390"
ADDRESS = f"127.0.0.1:{PORT}"
# this test's own Ray temp folder (short: Ray's socket paths live under it): every process of its two nodes names it
# on its command line or descends from one that does, so stopping them stops nothing else on the machine (`ray stop`
# would stop every Ray process of the machine, an engine job running beside the suite included)
RAY_TMP = tempfile.mkdtemp(prefix="ray-ec-", dir="/tmp")
# token authentication on every node and client (Ray >= 2.59 turns it on for clusters started locally), with a
# token of this test's own
env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
       "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0", "ADDRL_RUNS_DIR": str(OUT / "runs"),
       "ADDRL_CACHE_DIR": str(OUT / "cache"), "ADDRL_RESULTS_DIR": str(OUT / "results"),
       "ADDRL_FIGURES_DIR": str(OUT / "figures")}
report = {"sockets": set(), "interfaces": subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout}


def sh(*cmd, check=True, **kw):
    res = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, **kw)
    if check and res.returncode: raise SystemExit(f"{cmd} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}")
    return res


def watch_sockets(stop: threading.Event):
    "Every local and peer address of every TCP/UDP socket in this namespace, sampled while the cluster runs."
    while not stop.is_set():
        for line in sh("ss", "-tunaH", check=False).stdout.splitlines():
            parts = line.split()
            if len(parts) >= 6: report["sockets"].update({parts[4].rsplit(":", 1)[0], parts[5].rsplit(":", 1)[0]})
        stop.wait(0.5)


def _proc(pid: int):
    "(parent PID, command line) of a process, or None once it is gone."
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[1]), Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError): return None


def _alive(pid: int) -> bool:
    "Whether a process runs (a zombie, killed and waiting for its parent to reap it, does not)."
    try: return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError): return False


def ours(pid: int) -> bool:
    "Whether a process belongs to this test's nodes: it, or an ancestor, names RAY_TMP on its command line."
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid); info = _proc(pid)
        if info is None: return False
        if RAY_TMP.encode() in info[1]: return True
        pid = info[0]
    return False


def our_processes() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and int(p.name) != os.getpid()
            and ours(int(p.name))]


def stop_our_nodes() -> list[int]:
    "Stop this test's Ray processes only (SIGTERM, then SIGKILL after 10 s); returns those still running."
    pids = our_processes()
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        for pid in pids:
            try: os.kill(pid, sig)
            except OSError: pass
        deadline = time.time() + wait
        while time.time() < deadline and any(_alive(p) for p in pids): time.sleep(0.2)
        pids = [p for p in pids if _alive(p)]
    return pids


def ray_workers():
    "PIDs of this test's Ray worker processes executing a training task (their process title is ray::_ray_train)."
    return [pid for pid in our_processes() if (_proc(pid) or (0, b""))[1].startswith(b"ray::_ray_train")]


# a bystander titled like a Ray worker of another job on this machine: the test must leave it alone
bystander = subprocess.Popen(["bash", "-c", "exec -a ray::_ray_train sleep 3600"])
stop = threading.Event(); watcher = threading.Thread(target=watch_sockets, args=(stop,), daemon=True); watcher.start()
try:
    head = sh(BIN / "ray", "start", "--head", f"--port={PORT}", "--num-cpus=1", "--include-dashboard=false",
              "--disable-usage-stats", f"--temp-dir={RAY_TMP}")
    node = sh(BIN / "ray", "start", f"--address={ADDRESS}", "--num-cpus=1", "--disable-usage-stats",
              f"--temp-dir={RAY_TMP}")
    report["ray_start"] = head.stdout[-600:] + node.stdout[-600:]
    os.environ.update(env)
    import ray
    ray.init(address=ADDRESS, log_to_driver=False, logging_level="ERROR")
    report["nodes"] = [dict(ip=n["NodeManagerAddress"], alive=n["Alive"], cpus=n["Resources"].get("CPU"))
                       for n in ray.nodes()]
    ray.shutdown()

    # 1. a plan of 6 runs (2 models x 3 seeds, Table 2 only) through --address, 1 thread each: one CPU a node (the
    # suite's other worker shares the 2 cores), so two runs at a time, one on each node
    t0 = time.time()
    rep = sh(BIN / "addrl", "reproduce", "--dataset", "planted", "--profile", "tiny", "--models", "popularity,bprmf",
             "--seeds", "0,1,2", "--notebooks", "32_table2.ipynb", "--address", ADDRESS, "--threads", "1", "--quiet")
    report["reproduce"] = dict(seconds=time.time() - t0, lines=re.findall(r"\[engine\].*", rep.stdout + rep.stderr))

    # 2. a worker killed mid-run: Ray retries the task, which resumes from the checkpoint
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from addrl_nb.run.engine import RunSpec, execute
    spec = RunSpec.make("planted", "addrl", "tiny", 0, epochs=16, patience=100, eval_every=4)
    killed = {}
    def killer():
        ckpts = OUT / "kill-runs" / "planted" / "addrl"
        while not killed and not stop.is_set():
            done = list(ckpts.glob("*/metrics.json")) if ckpts.exists() else []
            have = list(ckpts.glob("*/checkpoint.pt")) if ckpts.exists() else []
            pids = ray_workers()
            if have and pids and not done:
                import torch
                try: epoch = torch.load(have[0], weights_only=True)["state"]["epoch"]
                except Exception: epoch = 0
                if epoch >= 2:
                    os.kill(pids[0], signal.SIGKILL); killed.update(pid=pids[0], at_pass=epoch); return
            time.sleep(0.05)
    k = threading.Thread(target=killer, daemon=True); k.start()
    os.environ.update(env)
    [after_kill] = execute([spec], workers=1, threads=1, address=ADDRESS, runs=OUT / "kill-runs", progress=False)
    k.join(timeout=1)
    [uninterrupted] = execute([spec], workers=1, threads=1, runs=OUT / "plain-runs", progress=False)   # in-process
    report["kill"] = dict(killed=killed, after_kill=after_kill["test"], uninterrupted=uninterrupted["test"],
                          history_equal=after_kill["history"] == uninterrupted["history"])

    # 3. the search: 8 trials with ASHA, validation only, ending with the best configuration as YAML
    t0 = time.time()
    tune = sh(BIN / "addrl", "tune", "--dataset", "planted", "--model", "bprmf", "--samples", "8", "--scheduler", "asha",
              "--profile", "tiny", "--address", ADDRESS, "--threads", "1", "--out-dir", OUT / "tune", "--then-seeds", "1",
              "--quiet")
    report["tune"] = dict(seconds=time.time() - t0, stdout=tune.stdout[-2000:])
    again = sh(BIN / "addrl", "train", "--config", OUT / "tune" / "best.yaml", "--dataset", "planted", "--profile",
               "tiny", "--seed", "0", "--quiet")
    report["train_best"] = again.stdout[-1500:]
finally:
    stop.set(); watcher.join(timeout=5)
    report["ray_left"] = stop_our_nodes(); report["ray_tmp"] = RAY_TMP
    report["bystander_alive"] = bystander.poll() is None; bystander.kill()
    import shutil; shutil.rmtree(RAY_TMP, ignore_errors=True)
    report["sockets"] = sorted(report["sockets"])
    (OUT / "report.json").write_text(json.dumps(report, indent=1, default=str))
