"""Distance-correlation A/B: the independence loss as it was (the textbook statistic, differentiated by autograd)
against the package's (hand-written backward, every covariance in one product), alternating in one process with the
same seed and batches on toys; for DMRL's training step (its loss's 12 chunk matrices of 1024 rows) and DGCF's.

    python benchmarks/dcor_step.py 1 dmrl,dgcf   # torch threads, models; prints both step times and the ratio
"""
import os, sys, torch
from addrl_nb.run.experiments import experiment_dataset
from _steps import step_seconds
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
def steps(model, fn):
    mm.pairwise_distance_correlation = cf.pairwise_distance_correlation = fn
    return step_seconds(ds, model)
for model in models:
    ta, tb = [], []
    for r in range(3): ta.append(steps(model, old)); tb.append(steps(model, new))
    print(f"{model}: threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}: before {min(ta)*1000:.0f} ms, "
          f"after {min(tb)*1000:.0f} ms a step (min of 3 x 10 steps), x{min(ta)/min(tb):.2f}", flush=True)
