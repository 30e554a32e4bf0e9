"""Distance-correlation A/B: the independence loss as it was (the textbook statistic, differentiated by autograd)
against the package's (hand-written backward, every covariance in one product), alternating in one process with the
same seed and batches on toys; for DMRL's training step (its loss's 12 chunk matrices of 1024 rows) and DGCF's.

    python benchmarks/dcor_step.py 1 dmrl,dgcf   # torch threads, models; prints both step times and the ratio
"""
import os, sys, time, torch
from addrl_nb.run.experiments import experiment_dataset
from addrl_nb.train.trainer import _build, make_optimizer, make_train_config, model_settings
from addrl_nb.models.interface import NegativeSampler
import addrl_nb.models.multimodal as mm, addrl_nb.models.collaborative as cf

new = mm.pairwise_distance_correlation
def old(parts, pairs, eps=1e-8):
    def centred(z):
        sq = z.pow(2).sum(1, keepdim=True)
        d = (sq - 2 * z @ z.T + sq.T).clamp_min(0).add(eps).sqrt()
        return d - d.mean(0, keepdim=True) - d.mean(1, keepdim=True) + d.mean()
    used = sorted({j for p in pairs for j in p}); c = {j: centred(parts[j]) for j in used}
    dcov = lambda p, q: (p * q).mean().clamp_min(0).add(eps).sqrt()
    var = {j: dcov(c[j], c[j]) for j in used}
    return torch.stack([dcov(c[a], c[b]) / (var[a] * var[b]).sqrt().clamp_min(eps) for a, b in pairs])

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
models = (sys.argv[2] if len(sys.argv) > 2 else "dmrl,dgcf").split(",")
ds = experiment_dataset("toys", os.environ.get("ADDRL_DATA_DIR"))
def steps(model, fn, n=10, off=0):
    mm.pairwise_distance_correlation = cf.pairwise_distance_correlation = fn; torch.manual_seed(0)
    params, train = model_settings(model, "toys", "quick"); cfg = make_train_config("quick", **train)
    sampler = NegativeSampler(ds.train, ds.n_items, cfg.neg_pool)
    net = _build(model, ds, params); opt = make_optimizer(net, cfg); g = torch.Generator().manual_seed(0); t = None
    for i in range(n + 2):
        if i == 2: t = time.perf_counter()
        pairs = torch.as_tensor(ds.train[(off + i) * cfg.batch_size:(off + i + 1) * cfg.batch_size], dtype=torch.long)
        loss = net.loss(pairs[:, 0], pairs[:, 1], sampler(pairs[:, 0], cfg.num_neg, g))["total"]
        opt.zero_grad(); loss.backward(); opt.step(); net.after_step()
    return (time.perf_counter() - t) / n
for model in models:
    ta, tb = [], []
    for r in range(3): ta.append(steps(model, old)); tb.append(steps(model, new))
    print(f"{model}: threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}: before {min(ta)*1000:.0f} ms, "
          f"after {min(tb)*1000:.0f} ms a step (min of 3 x 10 steps), x{min(ta)/min(tb):.2f}", flush=True)
