"""Benchmark of the full-ranking evaluator: all toys users, and a synthetic 100k users x 50k items case.

Prints seconds per full evaluation and the GFLOP/s of the scoring matmul alone. Run:
    python benchmarks/evaluation.py [--device cpu|cuda] [--dim 64] [--skip-synthetic]
"""
import argparse, os, time
import numpy as np
import torch
from addrl_nb.data.dataset import load_dataset
from addrl_nb.train.metrics import evaluate


def matmul_gflops(n_users, n_items, dim, device, batch=1024, repeats=3):
    "GFLOP/s of (batch x dim) @ (dim x n_items), the scoring step of a dot-product model."
    u, v = torch.randn(batch, dim, device=device), torch.randn(n_items, dim, device=device)
    (u @ v.T).sum().item()
    t0 = time.perf_counter()
    for _ in range(repeats): s = u @ v.T
    if device == "cuda": torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / repeats
    return 2 * batch * n_items * dim / dt / 1e9


def run(name, n_users, n_items, train, test, dim, device, batch):
    U, V = torch.randn(n_users, dim, device=device), torch.randn(n_items, dim, device=device)
    t0 = time.perf_counter()
    res = evaluate(lambda u: U[u] @ V.T, n_items, test, [train], n_users, ks=(10, 20, 50), batch_size=batch, device=device, progress=True)
    dt = time.perf_counter() - t0
    print(f"{name}: {res.metrics['n_users']:,} users x {n_items:,} items, dim {dim}: {dt:.2f} s per full evaluation "
          f"({res.metrics['n_users'] / dt:,.0f} users/s); scoring matmul {matmul_gflops(n_users, n_items, dim, device, batch):.1f} GFLOP/s")


if __name__ == "__main__":
    p = argparse.ArgumentParser(); p.add_argument("--device", default="cpu"); p.add_argument("--dim", type=int, default=64)
    p.add_argument("--batch", type=int, default=1024); p.add_argument("--skip-synthetic", action="store_true")
    a = p.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {a.device}")
    ds = load_dataset("toys", os.environ.get("ADDRL_DATA_DIR", "../shared/data"))
    run("toys", ds.n_users, ds.n_items, np.concatenate([ds.train, ds.valid]), ds.test, a.dim, a.device, a.batch)
    if not a.skip_synthetic:
        rng = np.random.default_rng(0); n_u, n_i = 100_000, 50_000
        train = np.stack([rng.integers(0, n_u, 1_000_000), rng.integers(0, n_i, 1_000_000)], 1)
        test = np.stack([rng.integers(0, n_u, 200_000), rng.integers(0, n_i, 200_000)], 1)
        run("synthetic", n_u, n_i, train, test, a.dim, a.device, a.batch)
