"""Where an AD-DRL training step goes: the step (forward, backward, Adam) timed with each loss switched off in turn,
every variant alternating step by step in one process on the same batches, so that a machine whose speed drifts
(shared cores) moves all of them alike. Also the A/B of the design choices this step rests on, each against its
alternative in the same way: the inter loss as a batched product against the broadcast product and sum, and the
low-level loss's log-softmax + gather against cross_entropy and a logsumexp form.

    python benchmarks/addrl_step.py [--dataset toys] [--steps 30] [--threads 2]

Prints milliseconds per step (median over the steps after 4 warm-up ones) and the matmul reference of this machine.
"""
import argparse, os, sys, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from training import matmul_gflops   # noqa: E402

VARIANTS = {"full": {}, "without intra": dict(intra=0.0), "without inter": dict(inter=0.0),
            "without low": dict(low=0.0), "without L2": dict(l2=0.0),
            "BPR only (ID + text)": dict(intra=0.0, inter=0.0, low=0.0, l2=0.0),
            "BPR only (ID)": dict(intra=0.0, inter=0.0, low=0.0, l2=0.0, modalities=())}


def alternate(fns: dict, steps: int, warmup: int = 4) -> dict:
    "Median seconds of each callable, called in turn `steps` times (the first `warmup` rounds not counted)."
    times = {k: [] for k in fns}
    for i in range(steps):
        for k, f in fns.items():
            t0 = time.perf_counter(); f(i)
            if i >= warmup: times[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}


def step_parts(dataset: str, steps: int) -> dict:
    "Milliseconds per training step of AD-DRL with each loss switched off in turn (quick profile, real batches)."
    from addrl_nb.run.experiments import experiment_dataset
    from addrl_nb.train.trainer import _build, make_optimizer, make_train_config, model_settings
    from addrl_nb.models.interface import NegativeSampler
    ds = experiment_dataset(dataset, os.environ.get("ADDRL_DATA_DIR"))
    params, train = model_settings("addrl", dataset, "quick"); cfg = make_train_config("quick", **train)
    sampler, g = NegativeSampler(ds.train, ds.n_items, cfg.neg_pool), torch.Generator().manual_seed(0)
    batches = []
    for i in range(steps):
        pairs = torch.as_tensor(ds.train[i * cfg.batch_size:(i + 1) * cfg.batch_size], dtype=torch.long)
        batches.append((pairs[:, 0], pairs[:, 1], sampler(pairs[:, 0], cfg.num_neg, g)))
    def trainer(v):
        net = _build("addrl", ds, {**params, **v}); opt = make_optimizer(net, cfg)
        def step(i):
            loss = net.loss(*batches[i])["total"]; opt.zero_grad(); loss.backward(); opt.step()
        return step
    return {k: 1e3 * t for k, t in alternate({k: trainer(v) for k, v in VARIANTS.items()}, steps).items()}


def inter_ab(steps: int, n: int = 6400, K: int = 4, dk: int = 32) -> dict:
    "The inter loss's (N, K, K) logits, forward and backward: batched product against broadcast product and sum."
    c0, g = torch.randn(n, 2, K, dk), torch.randn(n, K, K)
    def run(f):
        def go(i):
            c = c0.clone().requires_grad_(); f(c[:, 0], c[:, 1]).backward(g)
        return go
    return {k: 1e3 * t for k, t in alternate({
        "bmm": run(lambda a, b: torch.bmm(a, b.transpose(1, 2))),
        "broadcast": run(lambda a, b: (a[:, :, None] * b[:, None]).sum(-1))}, steps).items()}


def low_ab(steps: int, n: int = 5155, dk: int = 32, classes: int = 648) -> dict:
    "One attribute's low-level loss (toys' brand: 648 values), forward and backward, in three equivalent forms."
    x0, lab, w = torch.randn(n, dk), torch.randint(0, classes, (n,)), torch.rand(n)
    lin = torch.nn.Linear(dk, classes)
    forms = {"log_softmax + gather": lambda x: (-lin(x).log_softmax(1).gather(1, lab[:, None])[:, 0] * w).sum(),
             "cross_entropy": lambda x: (F.cross_entropy(lin(x), lab, reduction="none") * w).sum(),
             "logsumexp - label logit": lambda x: ((lin(x).logsumexp(1) - (x * lin.weight[lab]).sum(1)
                                                    - lin.bias[lab]) * w).sum()}
    def run(f):
        def go(i):
            x = x0.clone().requires_grad_(); lin.zero_grad(); f(x).backward()
        return go
    return {k: 1e3 * t for k, t in alternate({k: run(f) for k, f in forms.items()}, steps).items()}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="toys"); p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}; "
          f"matmul {matmul_gflops():.0f} GFLOP/s (1024 x 1024 float32)")
    for title, res in ((f"AD-DRL step on {a.dataset} (quick), ms", step_parts(a.dataset, a.steps)),
                       ("inter-loss logits, forward + backward, ms", inter_ab(a.steps)),
                       ("low-level loss, one 648-class attribute, forward + backward, ms", low_ab(a.steps))):
        print(title)
        for k, v in res.items(): print(f"  {k:>24}: {v:7.1f}")
    print(f"matmul at the end {matmul_gflops():.0f} GFLOP/s, load average {os.getloadavg()[0]:.2f}")
