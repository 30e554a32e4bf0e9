"""README.md is generated from nbs/index.ipynb and must not drift from it; CI must call the README's test command."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_matches_index():
    res = subprocess.run([sys.executable, "tools/make_readme.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout


def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make test" in ci.splitlines()[-1]


def test_readme_results_match_the_committed_table():
    "The toys Table 2 quoted in the README is the one in figures/toys/table2.csv, row for row."
    import csv
    table = ROOT / "figures" / "toys" / "table2.csv"
    assert table.exists(), f"{table} is missing: run `make reproduce` and commit figures/toys"
    readme = (ROOT / "README.md").read_text()
    for row in csv.DictReader(table.open()):
        authors = row["NDCG@20 (authors')"]
        line = f"| {row['model']} | {row['Recall@20']} | {row['NDCG@20']} | {authors} |"
        assert line in readme, f"README's toys Table 2 differs from {table} for {row['model']}: expected a row starting {line!r}"
