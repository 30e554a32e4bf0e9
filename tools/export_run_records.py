"""Copy the compact record of every finished run under a runs folder into results/: config.json, metrics.json and the
per-user test Recall@20 / NDCG@20 as zstd-compressed parquet (no checkpoint, no top-50 lists).

    python tools/export_run_records.py RUNS_DIR [--dataset toys] [--out results]

A stop-gap until `reproduce` writes these records itself: it lets runs trained on one machine be committed and
reused by a later session instead of being trained again.
"""
import argparse, json, shutil
from pathlib import Path
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def export(runs: Path, out: Path, dataset: str | None = None) -> list[Path]:
    done = []
    for metrics in sorted(runs.glob(f"{dataset or '*'}/*/*/metrics.json")):
        run = metrics.parent; dest = out / run.relative_to(runs)
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "metrics.json"): shutil.copy(run / name, dest / name)
        per_user = pd.read_csv(run / "per_user_test.csv", usecols=["user", "user_id", "n_targets", "recall@20", "ndcg@20"])
        per_user.to_parquet(dest / "per_user_test.parquet", index=False, compression="zstd")
        done.append(dest)
    return done


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", type=Path); p.add_argument("--dataset"); p.add_argument("--out", type=Path, default=ROOT / "results")
    a = p.parse_args()
    written = export(a.runs, a.out, a.dataset)
    size = sum(f.stat().st_size for d in written for f in d.iterdir())
    print(json.dumps(dict(runs=len(written), bytes=size, per_run=size // max(len(written), 1))))
