"""Items per second of `addrl_nb.data.features.encode_text` with the default model (all-MiniLM-L6-v2) on CPU.

Texts are Amazon Toys items from `$ADDRL_DATA_DIR/toys/items.csv` (default ../shared/data beside the repository),
restricted to the items that occur in `interactions.csv` (11,673). `--recipe title` encodes the bare titles,
`--recipe metadata` the sentences `item_texts` builds (title, brand, category paths), as `item_features` does.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/text_encoding.py --n 2000
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/text_encoding.py --n all --recipe metadata

Prints one JSON line: items, seconds, items_per_s, model load time, settings and machine facts, with the 1-minute
load average before and after: other processes on the 2 cores can slow it several-fold, so compare runs at low load.
"""
import argparse, json, os, platform, time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is local: never wait on the hub

import pandas as pd
import torch
from addrl_nb.data.features import DEFAULT_TEXT_MODEL, encode_text, item_texts, load_text_encoder


def toys_items(data_dir: Path) -> pd.DataFrame:
    "Toys items that occur in the interactions, in file order."
    items = pd.read_csv(data_dir / "toys" / "items.csv", dtype=str, keep_default_na=False)
    inter = data_dir / "toys" / "interactions.csv"
    if inter.is_file():
        used = set(pd.read_csv(inter, usecols=["item_id"], dtype=str)["item_id"])
        items = items[items["item_id"].isin(used)]
    return items.reset_index(drop=True)


def main():
    repo = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", default="2000", help="number of items, or 'all'")
    p.add_argument("--recipe", choices=["title", "metadata"], default="title")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--data-dir", default=os.environ.get("ADDRL_DATA_DIR") or str(repo.parent / "shared" / "data"))
    args = p.parse_args()

    items = toys_items(Path(args.data_dir))
    if args.n != "all": items = items.head(int(args.n))
    texts = items["title"].tolist() if args.recipe == "title" else item_texts(items, recipe="metadata")[0]

    started = time.perf_counter(); load_text_encoder(None, "cpu"); load_s = time.perf_counter() - started
    encode_text(texts[:64], batch_size=args.batch_size, max_length=args.max_length, progress=False)  # warm-up
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    vectors = encode_text(texts, batch_size=args.batch_size, max_length=args.max_length)
    seconds = time.perf_counter() - started
    print(json.dumps(dict(model=DEFAULT_TEXT_MODEL, recipe=args.recipe, items=len(texts), dim=vectors.shape[1],
                          seconds=round(seconds, 2), items_per_s=round(len(texts) / seconds, 1),
                          mean_chars=round(sum(map(len, texts)) / max(len(texts), 1), 1), model_load_s=round(load_s, 2),
                          batch_size=args.batch_size, max_length=args.max_length, torch_threads=torch.get_num_threads(),
                          cpus=os.cpu_count(), load_avg_1min=[round(load_before, 2), round(os.getloadavg()[0], 2)],
                          torch=torch.__version__, platform=platform.platform())))


if __name__ == "__main__":
    main()
