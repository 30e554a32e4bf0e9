"""Side by side with RecBole 1.2.1: seconds per training pass, seconds per full evaluation (validation + test), peak
memory, and test Recall@20 / NDCG@20 of BPR-MF, NeuMF, NGCF, LightGCN and DGCF, ours against RecBole's, at matching
settings, in one benchmark run.

Both sides train on OUR split: it is exported as RecBole atomic files (`<name>.train.inter`, `.valid.inter`,
`.test.inter`, read with `benchmark_filename`) into a temporary folder. Each side of each model runs in its own process,
one after the other, so that its peak RSS is its own: ours through benchmarks/training.py's `one` (the project's
trainer, the profile's settings), RecBole's with its own Trainer (`_train_epoch` timed) and its own full-ranking
evaluation. Accuracy is computed for both by OUR evaluator (`addrl_nb.train.metrics.evaluate`, training items masked
at validation, training + validation items at test), from RecBole's scores of every validation and test user.
Every setting that could not be aligned is printed under the table. Run (RecBole lives in its own venv,
.venv-bench: `make bench-peers`):
    python benchmarks/peers.py [--dataset toys] [--models bprmf,neumf,ngcf,lightgcn,dgcf] [--passes 2] [--out F.json]
                               [--threads N]
Timings count only on an idle machine: the load average is printed at the start and at the end.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import training   # noqa: E402  (our side: its per-model `one`)

RECBOLE_MODELS = dict(bprmf="BPR", neumf="NeuMF", ngcf="NGCF", lightgcn="LightGCN", dgcf="DGCF")   # ours -> RecBole
SPLITS = ("train", "valid", "test")
NEUMF_EVAL_PAIRS = 1 << 21   # user-item pairs per NeuMF `predict` call: every pair goes through the MLP tower


def export_atomic(ds,                # a prepared Dataset: our split
                  folder: Path,      # RecBole's data_path
                 ) -> Path:          # the dataset's folder, with <name>.train.inter, .valid.inter, .test.inter
    "Our train/valid/test split as RecBole atomic files, user and item indices written as tokens."
    out = folder / ds.name; out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        with open(out / f"{ds.name}.{split}.inter", "w") as f:
            f.write("user_id:token\titem_id:token\n")
            np.savetxt(f, getattr(ds, split)[:, :2], fmt="%d", delimiter="\t")
    return out


def recbole_settings(model: str,       # our name
                     dataset: str, profile: str,
                     n_items: int,
                     passes: int,
                     data_path: Path,  # where `export_atomic` wrote the split
                    ) -> tuple[dict, list[str]]:   # (RecBole's model, config, and our evaluator's ks and batch), gaps
    "RecBole's config for `model` at our settings (its YAML file and the profile), and each setting it cannot match."
    from addrl_nb.train.trainer import make_train_config, model_settings
    p, train = model_settings(model, dataset, profile)
    cfg = make_train_config(profile, **train)
    pairwise = model != "neumf"
    # RecBole's train_batch_size counts rows after sampling: one (user, pos, neg) row per negative when pairwise,
    # a positive row plus its negative rows when pointwise
    rows = cfg.num_neg if pairwise else 1 + cfg.num_neg
    conf = dict(epochs=passes, learner="adam", learning_rate=cfg.lr, weight_decay=0.0,
                train_batch_size=cfg.batch_size * rows, seed=cfg.seed,
                train_neg_sample_args=dict(distribution="uniform", sample_num=cfg.num_neg, alpha=1.0, dynamic=False,
                                           candidate_num=0),
                # full ranking scores eval_batch_size // n_items users at a time: the same users per batch as ours
                eval_batch_size=cfg.eval_batch_size * (n_items + 1),
                # our fixed split, its full-ranking protocol (its own metrics at 20 only as a cross-check of ours)
                data_path=str(data_path), benchmark_filename=list(SPLITS), load_col={"inter": ["user_id", "item_id"]},
                USER_ID_FIELD="user_id", ITEM_ID_FIELD="item_id",
                eval_args=dict(split={"RS": [0.8, 0.1, 0.1]}, group_by="user", order="RO", mode="full"),
                metrics=["Recall", "NDCG"], topk=[20], valid_metric="NDCG@20",
                gpu_id="", use_gpu=False, show_progress=False, state="WARNING", checkpoint_dir=str(data_path / "saved"))
    gaps = []
    if cfg.neg_pool != "all":
        gaps.append(f"negatives: ours from training items only (neg_pool={cfg.neg_pool}), RecBole's from all items")
    init = lambda theirs: (f"initialisation: ours N(0, {p['init_std']})" if p.get("init_std")
                           else "initialisation: ours Xavier uniform") + f", RecBole's {theirs}"
    if model == "bprmf":
        conf.update(embedding_size=p["dim"])
        gaps += [f"L2: RecBole's BPR has none (ours {p['reg']:g} x 0.5 ||batch embeddings||^2 per example; its "
                 "weight_decay would decay every parameter at every step, another term)", init("Xavier normal")]
        if p["neg_mode"] != "mean" and cfg.num_neg > 1: gaps.append(f"ours BPR against the {p['neg_mode']} negative")
    elif model == "lightgcn":
        # require_pow: 0.5 ||ego embeddings||^2 / batch, the scale of ours against a mean BPR
        conf.update(embedding_size=p["dim"], n_layers=p["n_layers"], reg_weight=p["reg"], require_pow=True)
        gaps.append(init("Xavier uniform"))
    elif model == "ngcf":
        conf.update(embedding_size=p["dim"], hidden_size_list=list(p["layer_sizes"]), node_dropout=0.0,
                    message_dropout=p["dropout"], reg_weight=p["reg"])
        gaps += ["L2: RecBole's NGCF takes the (unsquared) norms of the batch's propagated embeddings / batch, ours "
                 "0.5 x the squared norms of the ego embeddings",
                 "layer: RecBole's sum term transforms (L + I) E, ours A E", init("Xavier normal")]
        if p["slope"] != 0.2: gaps.append(f"LeakyReLU slope: RecBole's is fixed at 0.2, ours {p['slope']}")
    elif model == "dgcf":
        conf.update(embedding_size=p["dim"], n_factors=p["n_intents"], n_layers=p["n_layers"],
                    n_iterations=p["n_iterations"], reg_weight=p["reg"], cor_weight=p["cor"])
        gaps += ["L2: RecBole's DGCF takes the (unsquared) norms of the ego embeddings / batch, ours 0.5 x squared",
                 f"independence loss: RecBole's sums the adjacent intent pairs and divides by K(K+1)/2, ours the mean "
                 f"over {p['cor_pairs']} pairs", init("Xavier normal")]
    elif model == "neumf":
        users = min(cfg.eval_batch_size, max(1, NEUMF_EVAL_PAIRS // (n_items + 1)))
        conf.update(mf_embedding_size=p["dim"], mlp_embedding_size=p["mlp_layers"][0] // 2,
                    mlp_hidden_size=list(p["mlp_layers"][1:]), dropout_prob=p["dropout"],
                    eval_batch_size=users * (n_items + 1))
        gaps += [f"loss: RecBole's NeuMF is pointwise (binary cross-entropy on each positive row and its "
                 f"{cfg.num_neg} negative row{'s' if cfg.num_neg > 1 else ''}, train_batch_size "
                 f"{cfg.batch_size * rows} rows), ours BPR",
                 f"L2: none in RecBole's NeuMF (ours {p['reg']:g} on the batch's embeddings)",
                 "initialisation of the linear layers: torch's default in RecBole, Xavier uniform in ours"]
        if users < cfg.eval_batch_size:
            gaps.append(f"full evaluation: RecBole's in batches of {users} users (it sends every user-item pair "
                        f"through the tower, {NEUMF_EVAL_PAIRS} pairs at a time), ours {cfg.eval_batch_size}")
    return dict(model=RECBOLE_MODELS[model], config=conf, ks=list(cfg.ks), eval_batch_size=cfg.eval_batch_size), gaps


def recbole_shims():
    "RecBole 1.2.1 on numpy 2, scipy >= 1.15 and torch >= 2.6, patched at runtime (in RecBole's process only)."
    import functools
    import scipy.sparse as sp
    for old, new in (("float_", np.float64), ("complex_", np.complex128), ("unicode_", np.str_)):
        if not hasattr(np, old): setattr(np, old, new)            # read by Config.compatibility_settings
    if not hasattr(sp.dok_matrix, "_update"):                      # LightGCN's and NGCF's adjacency
        sp.dok_matrix._update = lambda self, data: self._dict.update(data)
    torch.load = functools.partial(torch.load, weights_only=False)  # its checkpoints hold its Config object
    # not patched: under pandas 3's copy-on-write, Dataset._fill_nan's `fillna(inplace=True)` does nothing; harmless
    # here, the exported atomic files have no missing values


def recbole_scorer(net, dataset, n_users: int, n_items: int):
    ("Our `score_users`: user indices -> (B, n_items) scores in our item order, from RecBole's `full_sort_predict`, "
     "or `predict` over every item where a model has none (NeuMF), `NEUMF_EVAL_PAIRS` pairs at a time.")
    from recbole.data.interaction import Interaction
    uf, itf = dataset.uid_field, dataset.iid_field
    uid, iid = dataset.field2token_id[uf], dataset.field2token_id[itf]
    rb_user = torch.as_tensor([uid.get(str(u), 0) for u in range(n_users)])
    rb_item = torch.as_tensor([iid.get(str(i), 0) for i in range(n_items)])   # 0: RecBole's padding, in no split
    absent = rb_item == 0
    n_rb = dataset.item_num                                                      # with the padding item
    def all_pairs(u):
        step, items = max(1, NEUMF_EVAL_PAIRS // n_rb), torch.arange(n_rb)
        return torch.cat([net.predict(Interaction({uf: c.repeat_interleave(n_rb), itf: items.repeat(len(c))}))
                          .view(len(c), n_rb) for c in u.split(step)])
    def score_users(users):
        u = rb_user[users.cpu()]
        try: s = net.full_sort_predict(Interaction({uf: u})).view(len(u), n_rb)
        except NotImplementedError: s = all_pairs(u)
        s = s[:, rb_item]; s[:, absent] = -torch.inf
        return s
    return score_users


def recbole_one(model: str, spec_file: str, data_dir: str, dataset: str, threads: int | None) -> dict:
    "Train RecBole's `model` with its own Trainer, time its passes and full evaluation, and score it with ours."
    if threads: torch.set_num_threads(threads)
    recbole_shims()
    import recbole
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed
    spec = json.loads(Path(spec_file).read_text())
    sys.argv = sys.argv[:1]                      # RecBole's Config would read `--key=value` arguments as settings
    config = Config(model=spec["model"], dataset=dataset, config_dict=spec["config"])
    init_seed(config["seed"], config["reproducibility"])
    t0 = time.perf_counter()
    rb_data = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, rb_data)
    load_s = time.perf_counter() - t0
    net = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, net)
    seconds, train_epoch = [], trainer._train_epoch
    def timed_epoch(*args, **kwargs):
        t = time.perf_counter(); out = train_epoch(*args, **kwargs); seconds.append(time.perf_counter() - t)
        return out
    trainer._train_epoch = timed_epoch
    trainer.fit(train_data, valid_data=None, verbose=False, saved=False, show_progress=False)
    t0 = time.perf_counter()
    own_valid = trainer.evaluate(valid_data, load_best_model=False)
    own_test = trainer.evaluate(test_data, load_best_model=False)
    eval_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # before our dataset is loaded here
    from addrl_nb.run.experiments import experiment_dataset
    from addrl_nb.train.metrics import evaluate
    ds = experiment_dataset(dataset, data_dir)
    score = recbole_scorer(net.eval(), rb_data, ds.n_users, ds.n_items)
    ks, batch = tuple(spec["ks"]), spec["eval_batch_size"]
    valid = evaluate(score, ds.n_items, ds.valid, [ds.train], ds.n_users, ks, batch).metrics
    test = evaluate(score, ds.n_items, ds.test, [ds.train, ds.valid], ds.n_users, ks, batch).metrics
    return dict(model=model, recbole_model=spec["model"], recbole_version=recbole.__version__,
                threads=torch.get_num_threads(), passes=len(seconds), load_s=load_s,
                s_per_pass=sum(seconds) / max(len(seconds), 1), eval_valid_test_s=eval_s, peak_rss_gib=peak,
                valid_recall20=valid["recall@20"], test_recall20=test["recall@20"], test_ndcg20=test["ndcg@20"],
                own_evaluator=dict(valid={k: float(v) for k, v in own_valid.items()},
                                   test={k: float(v) for k, v in own_test.items()}))


def ours_one(model: str, dataset: str, profile: str, passes: int, threads: int | None) -> dict:
    ("Our side: benchmarks/training.py's `one` (the project's trainer under `profile`, on the CPU), without its FLOP "
     "count, whose extra fresh models would count in our peak RSS.")
    if threads: torch.set_num_threads(threads)
    return training.one(model, dataset, profile, passes, "cpu", flops=False)


def run_side(args: list[str], cwd: str, threads: int | None) -> tuple[dict | None, str]:
    "Run this script's child mode `args` in its own process: (its JSON row, '') or (None, the one-line reason)."
    from addrl_nb.core import cache_dir
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)} if threads else {}))
    # RecBole's side runs in the temporary folder: the prepared data and its features stay this process's cache
    env["ADDRL_CACHE_DIR"] = str(cache_dir().resolve())
    if env.get("ADDRL_DATA_DIR"): env["ADDRL_DATA_DIR"] = str(Path(env["ADDRL_DATA_DIR"]).resolve())
    res = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True,
                         cwd=cwd, env=env)
    if res.returncode:
        if res.returncode < 0:   # stopped from outside: its last stderr line (often a warning) is not the reason
            return None, f"stopped by signal {-res.returncode} before it finished"
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        return None, (lines[-1].strip() if lines else f"exit status {res.returncode}")[:200]
    return json.loads(res.stdout.strip().splitlines()[-1]), ""


def compare(ours: dict | None, theirs: dict | None) -> dict:
    ("Speed-ups (RecBole's seconds / ours) and whether the targets are met: >= 2x per pass and per evaluation, and "
     "equal or better test Recall@20 and NDCG@20.")
    if not (ours and theirs): return dict(pass_ratio=None, eval_ratio=None, target_met=None)
    ratio = lambda k: theirs[k] / ours[k] if ours[k] > 0 else float("inf")
    out = dict(pass_ratio=ratio("s_per_pass"), eval_ratio=ratio("eval_valid_test_s"))
    missed = [name for name, ok in (("pass", out["pass_ratio"] >= 2), ("eval", out["eval_ratio"] >= 2),
                                    ("R@20", ours["test_recall20"] >= theirs["test_recall20"]),
                                    ("N@20", ours["test_ndcg20"] >= theirs["test_ndcg20"])) if not ok]
    return dict(out, target_met=not missed, missed=missed)


def format_table(rows: list[dict]) -> str:
    "The side-by-side table: one line per model, failed sides named with their reason."
    head = (f"{'model':<9} {'s/pass':>7} {'RB':>7} {'x':>5}  {'eval s':>7} {'RB':>7} {'x':>5}  "
            f"{'RSS GiB':>7} {'RB':>5}  {'R@20':>6} {'RB':>6}  {'N@20':>6} {'RB':>6}  target met")
    lines = [head, "-" * len(head)]
    for r in rows:
        o, t = r["ours"], r["recbole"]
        if not (o and t):
            why = [f"{side} failed: {r[key]}" for side, key, ok in (("ours", "ours_error", o),
                                                                    ("RecBole", "recbole_error", t)) if not ok]
            lines.append(f"{r['model']:<9} {'; '.join(why)}"); continue
        met = "yes" if r["target_met"] else "no (" + ", ".join(r["missed"]) + ")"
        lines.append(f"{r['model']:<9} {o['s_per_pass']:7.2f} {t['s_per_pass']:7.2f} {r['pass_ratio']:5.2f}  "
                     f"{o['eval_valid_test_s']:7.2f} {t['eval_valid_test_s']:7.2f} {r['eval_ratio']:5.2f}  "
                     f"{o['peak_rss_gib']:7.2f} {t['peak_rss_gib']:5.2f}  "
                     f"{o['test_recall20']:.4f} {t['test_recall20']:.4f}  "
                     f"{o['test_ndcg20']:.4f} {t['test_ndcg20']:.4f}  {met}")
    return "\n".join(lines)


def print_report(rows: list[dict], notes: dict, threads: dict, load_start: float, load_end: float):
    "The table, its legend, the thread counts and load averages, RecBole's own metrics, and the settings not aligned."
    print("\n" + format_table(rows))
    print("x: RecBole's seconds / ours (the target: >= 2); eval: one full validation + one full test evaluation; "
          "R@20, N@20: test, by our evaluator for both sides; RB: RecBole 1.2.1")
    print(f"torch threads: ours {threads['ours']}, RecBole {threads['recbole']}; load average at the start "
          f"{load_start:.2f}, at the end {load_end:.2f} (1 min)")
    print("Cross-check, RecBole's own evaluator on its test ranking (ours on its scores):")
    for r in rows:
        if not r["recbole"]: continue
        own, t = r["recbole"]["own_evaluator"]["test"], r["recbole"]
        print(f"  {r['model']}: recall@20 {own.get('recall@20', float('nan')):.4f} ({t['test_recall20']:.4f}), "
              f"ndcg@20 {own.get('ndcg@20', float('nan')):.4f} ({t['test_ndcg20']:.4f})")
    print("Not aligned (RecBole cannot express ours, or differs by design):")
    print("  all models: RNG streams differ (initial weights, shuffling, negatives); ours sums each loss over the "
          "batch, RecBole averages it (Adam is invariant to that scale, so L2 weights are matched per example)")
    for m, gaps in notes.items():
        for g in gaps: print(f"  {m}: {g}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="toys"); p.add_argument("--profile", default="quick")
    p.add_argument("--models", default=",".join(RECBOLE_MODELS), help="our names, comma-separated")
    p.add_argument("--passes", type=int, default=2, help="training passes per side (20 for the real comparison)")
    p.add_argument("--out", help="also write the rows as JSON to this file")
    p.add_argument("--threads", type=int, help="torch threads on both sides (default: torch's own choice)")
    p.add_argument("--side", choices=("ours", "recbole"), help=argparse.SUPPRESS)   # child mode: one model, one side
    p.add_argument("--spec", help=argparse.SUPPRESS)
    a = p.parse_args()
    data_dir = os.environ.get("ADDRL_DATA_DIR")
    if a.side == "ours":
        print(json.dumps(ours_one(a.models, a.dataset, a.profile, a.passes, a.threads))); return
    if a.side == "recbole":
        print(json.dumps(recbole_one(a.models, a.spec, data_dir, a.dataset, a.threads))); return
    from tqdm.auto import tqdm
    from addrl_nb.run.experiments import experiment_dataset
    models = a.models.split(",")
    unknown = [m for m in models if m not in RECBOLE_MODELS]
    if unknown: p.error(f"no RecBole counterpart for {unknown}; use some of {list(RECBOLE_MODELS)}")
    if a.threads: torch.set_num_threads(a.threads)
    load_start = os.getloadavg()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, dataset {a.dataset}, profile {a.profile}, "
          f"{a.passes} passes per side; load average at the start {load_start[0]:.2f} (1 min)")
    ds = experiment_dataset(a.dataset, data_dir)
    rows, notes = [], {}
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        export_atomic(ds, Path(tmp))
        print(f"{ds.name}: {ds.n_users} users, {ds.n_items} items, train / valid / test {len(ds.train)} / "
              f"{len(ds.valid)} / {len(ds.test)}, exported as RecBole atomic files")
        for m in tqdm(models, desc="models"):
            spec, notes[m] = recbole_settings(m, a.dataset, a.profile, ds.n_items, a.passes, Path(tmp))
            spec_file = Path(tmp) / f"{m}.json"; spec_file.write_text(json.dumps(spec))
            common = ["--models", m, "--dataset", a.dataset, "--profile", a.profile, "--passes", str(a.passes),
                      *(["--threads", str(a.threads)] if a.threads else [])]
            ours, ours_error = run_side(["--side", "ours", *common], os.getcwd(), a.threads)
            theirs, rb_error = run_side(["--side", "recbole", "--spec", str(spec_file), *common], tmp, a.threads)
            row = dict(model=m, recbole_model=RECBOLE_MODELS[m], ours=ours, recbole=theirs, ours_error=ours_error,
                       recbole_error=rb_error, recbole_config=spec["config"], not_aligned=notes[m],
                       **compare(ours, theirs))
            rows.append(row)
            tqdm.write(format_table([row]).splitlines()[-1])
    load_end = os.getloadavg()
    threads = {side: sorted({r[side]["threads"] for r in rows if r[side]}) for side in ("ours", "recbole")}
    print_report(rows, notes, threads, load_start[0], load_end[0])
    if a.out:
        Path(a.out).write_text(json.dumps(dict(dataset=a.dataset, profile=a.profile, passes=a.passes,
                                               torch=torch.__version__, threads=threads,
                                               load_average_start=load_start[0], load_average_end=load_end[0],
                                               rows=rows), indent=1))
        print(f"rows written to {a.out}")


if __name__ == "__main__":
    main()
