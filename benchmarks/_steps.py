"Training-step timing shared by the A/B benchmarks: every version gets the same seed, batches and negatives."
import time, torch
from addrl_nb.train.trainer import _build, make_optimizer, make_train_config, model_settings
from addrl_nb.models.interface import NegativeSampler


def step_seconds(ds, model: str, n: int = 10, off: int = 0, profile: str = "quick") -> float:
    "Mean seconds of `n` training steps of a fresh `model` (seed 0) on `ds`'s batches from `off`, after 2 warm-up steps."
    torch.manual_seed(0)
    params, train = model_settings(model, ds.name, profile); cfg = make_train_config(profile, **train)
    sampler = NegativeSampler(ds.train, ds.n_items, cfg.neg_pool)
    net = _build(model, ds, params); opt = make_optimizer(net, cfg); g = torch.Generator().manual_seed(0); t = None
    for i in range(n + 2):
        if i == 2: t = time.perf_counter()
        pairs = torch.as_tensor(ds.train[(off + i) * cfg.batch_size:(off + i + 1) * cfg.batch_size], dtype=torch.long)
        loss = net.loss(pairs[:, 0], pairs[:, 1], sampler(pairs[:, 0], cfg.num_neg, g))["total"]
        opt.zero_grad(); loss.backward(); opt.step(); net.after_step()
    return (time.perf_counter() - t) / n
