"""What a person at a terminal waits for: command start-up, a small log, a first call.

Prints, all measured in this run as whole processes (best of ``--repeat``):

- ``wergap --version`` and ``wergap --help`` (goal: <= 0.3 s each);
- ``wergap score`` of a 45,000-utterance CSV against a plain script that reads the same
  CSV with ``csv`` and calls ``jiwer.process_words`` per row (goal: >= 2x faster);
- in a fresh process, the first ``wg.score`` on 180,000 utterances and a later (warm)
  call made after the first has loaded the compiled kernels in the background, as
  utterances/s against jiwer on the same pairs (goals: >= 10x and >= 30x), and the call
  after that (the first compiled call page-faults its fresh memory; later ones reuse it).

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

JIWER_SCRIPT = """
import csv, sys, jiwer
errors = words = 0
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        out = jiwer.process_words(row["ref"], row["hyp"])
        errors += out.substitutions + out.deletions + out.insertions
        words += out.substitutions + out.deletions + out.hits
print(f"WER {100 * errors / words:.2f} %")
"""

FIRST_CALL = """
import sys, time
sys.path.insert(0, {here!r})
from bench_scoring import make_corpus
import jiwer
import wergap as wg
log = wg.read_log(make_corpus({n}))
t0 = time.perf_counter(); wg.score(log); t1 = time.perf_counter()
refs = wg.normalize(log["ref"]); hyps = wg.normalize(log["hyp"])
t4 = time.perf_counter()
for r, h in zip(refs, hyps):
    jiwer.process_words(r, h)
t5 = time.perf_counter()
# a later call: the first started loading the compiled kernels in the background
t2 = time.perf_counter(); wg.score(log); t3 = time.perf_counter()
# and the call after it: the first compiled call's fresh memory is reused from here on
t6 = time.perf_counter(); wg.score(log); t7 = time.perf_counter()
print(t1 - t0, t3 - t2, t5 - t4, t7 - t6)
"""


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return e


def timed(cmd: list[str], repeat: int) -> float:
    """Best wall time of ``cmd`` over ``repeat`` runs (it must exit 0)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the best is shown (default 3)")
    ap.add_argument("--n-csv", type=int, default=45_000, help="utterances in the CSV (default 45,000)")
    ap.add_argument("--n-first", type=int, default=180_000, help="utterances of the first-call test (default 180,000)")
    args = ap.parse_args(argv)
    py = sys.executable
    wergap = [py, "-m", "wergap"]
    for what in ("--version", "--help"):
        print(f"wergap {what:<10} {timed([*wergap, what], args.repeat):6.2f} s")

    sys.path.insert(0, str(HERE))
    from bench_scoring import make_corpus

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "log.csv"
        make_corpus(args.n_csv).to_csv(csv_path, index=False)
        script = Path(tmp) / "plain_jiwer.py"
        script.write_text(JIWER_SCRIPT, encoding="utf-8")
        ours = timed([*wergap, "score", str(csv_path), "-o", str(Path(tmp) / "scored.parquet")], args.repeat)
        theirs = timed([py, str(script), str(csv_path)], args.repeat)
    print(f"wergap score      {ours:6.2f} s  ({args.n_csv:,}-utterance CSV, whole process)")
    print(f"csv + jiwer       {theirs:6.2f} s  (same CSV, whole process): wergap {theirs / ours:.2f}x as fast")

    runs = []
    for _ in range(args.repeat):
        out = subprocess.run(
            [py, "-c", FIRST_CALL.format(here=str(HERE), n=args.n_first)],
            check=True,
            capture_output=True,
            text=True,
            env=env(),
        ).stdout.split()
        runs.append(tuple(map(float, out)))
    first, warm, jw, steady = (statistics.median(r[k] for r in runs) for k in range(4))
    n = args.n_first
    print(
        f"first wg.score    {n / first:12,.0f} utt/s  ({first:.2f} s, fresh process, {n:,} utterances): {jw / first:.1f}x jiwer"
    )
    print(
        f"warm wg.score     {n / warm:12,.0f} utt/s  ({warm:.2f} s, a later call, kernels loaded): {jw / warm:.1f}x jiwer"
    )
    print(
        f"steady wg.score   {n / steady:12,.0f} utt/s  ({steady:.2f} s, the call after that): {jw / steady:.1f}x jiwer"
    )
    print(f"jiwer             {n / jw:12,.0f} utt/s  ({jw:.2f} s, process_words per utterance, same process)")
    print(f"machine           load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
