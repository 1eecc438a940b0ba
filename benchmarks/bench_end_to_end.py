"""End to end: decode log on disk → speaker table → audit → HTML report, per engine.

Generates ``--n`` utterances (default 1M) by ``--speakers`` speakers (default 100k), each
speaker with a home lat/lon (utterances jittered around it), a zip and a gender, with
~10 % word errors (a planted higher error rate in one region), and writes them as a
partitioned Parquet dataset (one file per ``--file-rows`` rows) in a temporary folder.
Then, each in its own child process (so peak memory is per pipeline), it runs the full
audit with the HTML report:

- ``pandas``: ``read_log`` of every file, ``score``, ``audit``, ``write_html``;
- ``dask``: ``wergap.engines.score_speakers`` (a local cluster, one worker per core),
  ``audit`` of the speaker table, ``write_html``;
- ``jiwer``: the baseline a user would write without wergap: ``pandas.read_parquet``,
  ``jiwer.process_words`` per utterance (jiwer's own default normalisation, not charged
  for wergap's), a pandas ``groupby`` to the speaker table, then the same ``audit`` and
  ``write_html``.

For each it reports the wall time (from the child's start of reading to the report
written; interpreter start-up and imports excluded) and the peak resident memory of the
child's whole process tree (PSS — resident memory with shared pages split between the
processes sharing them — summed over the child and its descendants, Dask's workers
included, sampled every 50 ms with psutil; without psutil,
``resource.getrusage(RUSAGE_CHILDREN)``, the largest single process), and the ratios
against the jiwer baseline, all measured in one run.

    python benchmarks/bench_end_to_end.py                                  # 1M, every engine
    python benchmarks/bench_end_to_end.py --n 20000000 --engines dask      # 20M on Dask
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ENGINES = ("pandas", "dask", "jiwer")


# --------------------------------------------------------------------------- data


def _texts(
    rng: np.random.Generator, n: int, error_rate: np.ndarray, vocab: np.ndarray, p: np.ndarray
) -> tuple[list[str], list[str]]:
    """``n`` (ref, hyp) pairs, 2–20 words, per-utterance error rates (60 % sub, 20 % del, 20 % ins)."""
    lengths = rng.integers(2, 21, size=n)
    total = int(lengths.sum())
    owner = np.repeat(np.arange(n), lengths)
    ref_tok = vocab[rng.choice(len(vocab), size=total, p=p)]
    rate = error_rate[owner]
    op = rng.random(total) / rate  # < 1 means "an error happens here"
    sub = op < 0.6
    delete = (op >= 0.6) & (op < 0.8)
    insert = (op >= 0.8) & (op < 1.0)
    hyp_tok = ref_tok.copy()
    hyp_tok[sub] = vocab[rng.choice(len(vocab), size=int(sub.sum()), p=p)]
    extra = vocab[rng.choice(len(vocab), size=total, p=p)]
    # Build hyp token stream: kept tokens (not deleted), each followed by an inserted one.
    hyp_words = np.where(delete, "", hyp_tok)
    ins_words = np.where(insert, extra, "")
    both = np.empty(2 * total, dtype=object)
    both[0::2] = hyp_words
    both[1::2] = ins_words
    both_owner = np.repeat(owner, 2)
    keep = both != ""
    ref_series = pd.Series(ref_tok).groupby(owner, sort=False).agg(" ".join)
    hyp_series = pd.Series(both[keep]).groupby(both_owner[keep], sort=False).agg(" ".join)
    hyps = hyp_series.reindex(range(n), fill_value="").tolist()
    return ref_series.tolist(), hyps


def generate(folder: Path, n: int, n_speakers: int, file_rows: int, seed: int = 0) -> list[Path]:
    """Write the simulated log as ``part-XXXXX.parquet`` files; return their paths."""
    rng = np.random.default_rng(seed)
    vocab_size = 20_000
    vocab = np.array([f"word{i}" for i in range(vocab_size)], dtype=object)
    p = 1.0 / np.arange(1, vocab_size + 1)
    p /= p.sum()
    home_lat = rng.uniform(25.0, 49.0, n_speakers)
    home_lon = rng.uniform(-124.0, -67.0, n_speakers)
    zips = np.array([f"{z:05d}" for z in rng.integers(501, 99950, n_speakers)], dtype=object)
    gender = rng.choice(np.array(["female", "male"], dtype=object), n_speakers)
    # Planted disparity: speakers in the south-east corner get twice the error rate.
    spk_rate = np.where((home_lat < 33) & (home_lon > -90), 0.2, 0.1)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, start in enumerate(range(0, n, file_rows)):
        m = min(file_rows, n - start)
        spk = rng.integers(0, n_speakers, m)
        refs, hyps = _texts(rng, m, spk_rate[spk], vocab, p)
        table = pa.table(
            {
                "utt_id": [f"u{i}" for i in range(start, start + m)],
                "speaker_id": [f"s{s:07d}" for s in spk],
                "ref": refs,
                "hyp": hyps,
                "lat": home_lat[spk] + rng.normal(0, 0.02, m),
                "lon": home_lon[spk] + rng.normal(0, 0.02, m),
                "zip": zips[spk],
                "gender": gender[spk],
            }
        )
        path = folder / f"part-{k:05d}.parquet"
        pq.write_table(table, path, row_group_size=100_000)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- pipelines (child)


def _audit_and_report(table: pd.DataFrame, out: Path) -> float:
    """The shared back half: audit (defaults) + HTML; returns its seconds."""
    import wergap
    from wergap.reports.html import write_html

    t0 = time.perf_counter()
    result = wergap.audit(table)
    write_html(result, out / "report.html")
    return time.perf_counter() - t0


def run_child(engine: str, data: Path, out: Path) -> dict:
    """Run one pipeline; return timings (seconds) and a check value."""
    import jiwer  # noqa: F401 - imported before the clock starts, as wergap is

    import wergap
    from wergap import engines  # noqa: F401

    files = sorted(data.glob("*.parquet"))
    t0 = time.perf_counter()
    if engine == "pandas":
        log = pd.concat([wergap.read_log(f) for f in files], ignore_index=True)
        scored = wergap.score(log)
        del log
        table = scored
        t_score = time.perf_counter() - t0
        t_audit = _audit_and_report(table, out)
        words, errors = int(scored["ref_words"].sum()), int(scored["errors"].sum())
    elif engine == "dask":
        table, _ = engines.score_speakers(data)
        t_score = time.perf_counter() - t0
        t_audit = _audit_and_report(table, out)
        words, errors = int(table["ref_words"].sum()), int(table["errors"].sum())
    else:
        import jiwer

        log = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        counts = np.empty((len(log), 4), dtype=np.int64)
        for k, (r, h) in enumerate(zip(log["ref"].tolist(), log["hyp"].tolist())):
            o = jiwer.process_words(r, h)
            counts[k] = (o.substitutions, o.deletions, o.insertions, o.hits)
        log = log.drop(columns=["ref", "hyp", "utt_id"])
        log["substitutions"], log["deletions"], log["insertions"], log["hits"] = counts.T
        log["ref_words"] = counts[:, 0] + counts[:, 1] + counts[:, 3]
        log["errors"] = counts[:, :3].sum(axis=1)
        g = log.groupby("speaker_id", sort=True)
        table = g[["ref_words", "errors", "substitutions", "deletions", "insertions", "hits"]].sum()
        table.insert(0, "utterances", g.size())
        table["wer"] = table["errors"] / table["ref_words"]
        table[["lat", "lon"]] = g[["lat", "lon"]].median()
        table["zip"] = g["zip"].agg(lambda s: s.mode().iloc[0])
        table["gender"] = g["gender"].agg(lambda s: s.mode().iloc[0])
        table = table.reset_index()
        t_score = time.perf_counter() - t0
        t_audit = _audit_and_report(table, out)
        words, errors = int(table["ref_words"].sum()), int(table["errors"].sum())
    return {
        "engine": engine,
        "seconds": time.perf_counter() - t0,
        "score_seconds": t_score,
        "audit_seconds": t_audit,
        "ref_words": words,
        "errors": errors,
    }


# --------------------------------------------------------------------------- parent


def _tree_pss(proc) -> int:
    """Proportional set size summed over ``proc`` and its descendants (bytes).

    PSS, not RSS: forked scoring workers share the parent's pages copy-on-write, and a
    sum of RSS would count those pages once per process.
    """
    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except Exception:  # the process just ended
        return 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except Exception:  # noqa: PERF203 - a worker that just exited
            pass
    return total


def measure(engine: str, data: Path, out: Path) -> dict:
    """Run ``engine`` in a child process; its result plus the tree's peak RSS (bytes)."""
    cmd = [sys.executable, __file__, "--child", engine, "--data", str(data), "--out", str(out)]
    try:
        import psutil
    except ImportError:
        psutil = None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    if psutil is not None:
        handle = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, _tree_pss(handle))
            time.sleep(0.05)
        how = "PSS of the process tree, psutil"
    else:
        how = "largest child, getrusage"
    stdout, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{engine} failed with exit status {proc.returncode}")
    if psutil is None:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(peak_rss=peak, rss_how=how)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="utterances (default 1M)")
    ap.add_argument("--speakers", type=int, default=100_000, help="speakers (default 100k)")
    ap.add_argument("--file-rows", type=int, default=500_000, help="utterances per Parquet file")
    ap.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, Path(args.data), Path(args.out))))
        return 0

    with tempfile.TemporaryDirectory(prefix="wergap-bench-") as tmp:
        data = Path(tmp) / "log"
        t0 = time.perf_counter()
        files = generate(data, args.n, args.speakers, args.file_rows, args.seed)
        size = sum(f.stat().st_size for f in files)
        print(
            f"dataset     {args.n:,} utterances, {args.speakers:,} speakers, {len(files)} Parquet files, "
            f"{size / 1e6:,.0f} MB (generated in {time.perf_counter() - t0:.0f} s)"
        )
        print(f"machine     {os.cpu_count()} cores")
        results = {}
        for engine in args.engines:
            out = Path(tmp) / f"out-{engine}"
            out.mkdir()
            r = measure(engine, data, out)
            results[engine] = r
            print(
                f"{engine:<7} {r['seconds']:7.1f} s  (read+score+speakers {r['score_seconds']:.1f} s, "
                f"audit+HTML {r['audit_seconds']:.1f} s)  peak memory {r['peak_rss'] / 1e9:.2f} GB ({r['rss_how']})  "
                f"WER {100 * r['errors'] / r['ref_words']:.3f} %"
            )
        if "jiwer" in results:
            base = results["jiwer"]
            for engine, r in results.items():
                if engine != "jiwer":
                    print(
                        f"{engine} vs jiwer baseline: {base['seconds'] / r['seconds']:.1f}x faster, "
                        f"{r['peak_rss'] / base['peak_rss']:.2f}x the peak memory"
                    )
        wers = {e: (r["errors"], r["ref_words"]) for e, r in results.items() if e != "jiwer"}
        if len(set(wers.values())) > 1:
            print("MISMATCH: the engines' total counts differ: " + repr(wers))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
