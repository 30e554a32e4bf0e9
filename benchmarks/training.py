"""Benchmark of training and evaluation on a real dataset: seconds per training pass, seconds per full evaluation
(validation and test), and peak memory, for each model under a profile's settings.

Each model runs in its own process, so that its peak memory is its own. Run:
    python benchmarks/training.py [--dataset toys] [--models addrl_id,addrl] [--passes 3] [--device cpu|cuda]
Every model gets the dataset's text features, as in the experiments (computed and cached on first use).
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
import torch


def one(model, dataset, profile, passes, device):
    "Train `model` for `passes` passes in this process; return its timings and peak memory."
    from addrl_nb.run.experiments import experiment_dataset
    from addrl_nb.train.trainer import fit, make_train_config, model_settings
    t0 = time.perf_counter()
    ds = experiment_dataset(dataset, os.environ.get("ADDRL_DATA_DIR"))  # with text features, as the experiments use
    load_s = time.perf_counter() - t0
    params, train = model_settings(model, dataset, profile)
    cfg = make_train_config(profile, **{**train, "epochs": passes, "eval_every": passes + 1, "device": device})
    if device == "cuda": torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as root:
        r = fit(ds, model, params, cfg, profile=f"bench-{profile}", root=root, resume=False, reuse=False, progress=False)
    out = dict(model=model, dataset=dataset, profile=profile, device=device, threads=torch.get_num_threads(), passes=r["epochs_run"],
               load_s=load_s, s_per_pass=r["train_seconds"] / max(r["epochs_run"], 1), eval_valid_test_s=r["eval_seconds"],
               peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
               valid_recall20=r["valid"]["recall@20"])
    if device == "cuda": out["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="toys"); p.add_argument("--models", default="addrl_id,addrl")
    p.add_argument("--profile", default="quick"); p.add_argument("--passes", type=int, default=3)
    p.add_argument("--device", default="cpu"); p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.models, a.dataset, a.profile, a.passes, a.device))); sys.exit(0)
    from tqdm.auto import tqdm
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {a.device}, dataset {a.dataset}, profile {a.profile}, "
          f"{a.passes} passes per model")
    rows = []
    for m in tqdm(a.models.split(","), desc="models"):
        cmd = [sys.executable, __file__, "--one", "--models", m, "--dataset", a.dataset, "--profile", a.profile,
               "--passes", str(a.passes), "--device", a.device]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode: print(f"{m}: failed\n{res.stderr[-2000:]}"); continue
        r = json.loads(res.stdout.strip().splitlines()[-1]); rows.append(r)
        gpu = f", peak GPU {r['peak_gpu_gib']:.2f} GiB" if "peak_gpu_gib" in r else ""
        tqdm.write(f"{m:>10}: {r['s_per_pass']:7.2f} s per pass, {r['eval_valid_test_s']:6.2f} s for the validation + test evaluation, "
                   f"peak RSS {r['peak_rss_gib']:.2f} GiB{gpu} (data load {r['load_s']:.1f} s)")
    print(json.dumps(rows, indent=1))
