"""Rewrite the toys Tables 2 and 3 block of nbs/index.ipynb (the README's source) from figures/toys/table2.csv,
table3.csv, table2_quick.csv and the run records: `python tools/readme_tables.py`, then `python tools/make_readme.py`.
Run it after `make from-results PROFILE=converge`; tests/test_readme.py checks the README's Table 2 against the CSV."""
import csv, json
from pathlib import Path
from addrl_nb.run.engine import RunSpec, find_record, load_records   # the package installed in .venv
from addrl_nb.run.experiments import PAPER_NAMES, TABLE3_VARIANTS, variant_settings
R = Path(__file__).resolve().parents[1]; F = R / "figures/toys"
recs = load_records("toys"); inv = {v: k for k, v in PAPER_NAMES.items()}
num = lambda v: "" if v in ("", "nan") else f"{float(v):.4f}"
def rows2():
    out = ["| model | Recall@20 | NDCG@20 | NDCG@20 (authors') | paper Recall@20 | paper NDCG@20 |", "|---|---|---|---|---|---|"]
    for r in csv.DictReader(open(F / "table2.csv")):
        out.append(f"| {r['model']} | {r['Recall@20']} | {r['NDCG@20']} | {r[chr(78) + 'DCG@20 (authors' + chr(39) + ')']} | {num(r['paper Recall@20'])} | {num(r['paper NDCG@20'])} |")
    return "\n".join(out)
def rows3():
    out = ["| variant | Recall@20 | NDCG@20 | NDCG@20 (authors') | paper Recall@20 | paper NDCG@20 | p vs full |", "|---|---|---|---|---|---|---|"]
    for r in csv.DictReader(open(F / "table3.csv")):
        p = r.get("p vs full", "")
        out.append(f"| {r['variant']} | {r['recall@20']} | {r['ndcg@20']} | {r['ndcg_authors@20']} | {num(r['paper Recall@20'])} | {num(r['paper NDCG@20'])} | {p if p not in ('', 'nan') else ''} |")
    return "\n".join(out)
meta = json.loads((F / "table2.json").read_text())["meta"]; t = meta["ttest"]
names = {"addrl_id": "AD-DRL_ID", "lightgcn": "LightGCN", "grcn": "GRCN"}
t2 = list(csv.DictReader(open(F / "table2.csv"))); t3 = list(csv.DictReader(open(F / "table3.csv")))
done = [r["model"] for r in t2 if r["Recall@20"] != "not run"]; todo = [r["model"] for r in t2 if r["Recall@20"] == "not run"]
v_todo = [r["variant"] for r in t3 if r["recall@20"] == "not recorded yet"]
q = {r["model"]: r for r in csv.DictReader(open(F / "table2_quick.csv"))}
got = lambda m, **kw: [find_record(RunSpec.make("toys", m, "converge", s, **kw), recs, required=False) for s in (0, 1, 2)]
runs2 = [r for m in done for r in got(inv.get(m, m))]
runs3 = [r for v in TABLE3_VARIANTS if v != "full" and v not in v_todo for r in got("addrl", **variant_settings(v))]
hours = lambda rs: sum(r["train_seconds"] for r in rs) / 3600
cost = (f"Its {len(runs2)} recorded runs spent {hours(runs2):.1f} h in training passes at one thread each "
        f"(two at a time on the 2 cores, through the engine; the records' `train_seconds`, without the validation "
        f"every 2 passes), "
        f"{sum(r['epochs_run'] for r in runs2) / len(runs2):.0f} passes a run on average.")
block = f"""Toys' headline tables are the `converge` profile's (each run trained until validation Recall@20 has not improved
for 16 passes, at most 400; `headline` in `profiles.yaml`), rebuilt from the committed records alone: `make
from-results PROFILE=converge` (`addrl reproduce --dataset toys --profile converge --from-results`, seconds, nothing
trained; `python tools/readme_tables.py` rewrites this block from them). Table 2 (`figures/toys/table2.csv`; test split, the pass chosen on validation, 3 seeds):

{rows2()}

`*` p < 0.05 in a two-tailed paired t-test over the {t['n_users']:,} test users (each averaged over the seeds) against the best
other model ({names.get(t['best_other'], t['best_other'])}: p = {t['p']:.2g}). AD-DRL uses the text modality here, AD-DRL_ID none (the table's `content`
column). {cost}{f" A `not run` row is a model whose three converge runs are not all recorded yet ({', '.join(todo)}); its `note` names the command that trains it, and the row fills in when its records are committed." if todo else ""}
Table 3 (`figures/toys/table3.csv`; each variant on 3 seeds, the two-tailed paired t-test over users against `full`):

{rows3()}
{f"{chr(10)}Variants marked `not recorded yet` ({', '.join(v_todo)}) are not recorded yet; their rows fill in when their records are committed{f' (the {len(runs3)} recorded variant runs spent {hours(runs3):.1f} h in training passes)' if runs3 else ''}.{chr(10)}" if v_todo else ""}
The quick profile's tables stay beside them (`figures/toys/table2_quick.csv`, `table3_quick.csv`; Popularity,
BPR-MF, AD-DRL_ID and AD-DRL, 30 passes at most): there AD-DRL reaches {q['AD-DRL']['Recall@20']} and AD-DRL_ID
{q['AD-DRL_ID']['Recall@20']}. On toys, `make reproduce` (quick) took 45 min on 2 idle CPU cores from a fresh clone
(features, 12 Table-2 runs, 5 ablation runs, figures; measured 2026-11-24, before AD-DRL's default became the
authors' loss placement, which costs 1.5x a pass); through the engine (`make reproduce WORKERS=2 THREADS=1`) the
committed quick results took 58 min 42 s on 2 idle cores (2026-12-02), Table 2's 12 runs 19 min 30 s after the speed
work (2026-12-07). The gap to the paper and its likely causes are discussed in `nbs/39_results.ipynb`."""
nbp = R / "nbs/index.ipynb"; nb = json.loads(nbp.read_text())
start, end = "On toys, `make reproduce` took 45 min", "The gap to the paper and its likely causes are discussed in `nbs/39_results.ipynb`."
alt = "Toys' headline tables are the `converge` profile's"
hits = [c for c in nb["cells"] if (start in "".join(c["source"]) or alt in "".join(c["source"]))]
assert len(hits) == 1
s = "".join(hits[0]["source"]); i = s.find(alt) if alt in s else s.find(start); j = s.find(end, i) + len(end)
assert i >= 0 and j > i
hits[0]["source"] = (s[:i] + block + s[j:]).splitlines(keepends=True)
nbp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
print(f"rewrote the toys tables block of {nbp}")
