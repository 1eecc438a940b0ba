"""What every hostile-input case shares: small real inputs, one CLI run, the checks.

A case runs ``wergap.cli.main(argv)`` in-process in its own folder and the harness checks
what issue 14 asks of every run that fails: the exit code, one line on stderr (no
traceback) holding the expected text, every input byte-for-byte unchanged, and no output
or temporary file left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: A transcript no output may ever show.
SECRET = "zebra quartz xylophone"


@dataclass
class Run:
    code: int
    out: str
    err: str
    files_before: dict[str, str] = field(default_factory=dict)
    files_after: dict[str, str] = field(default_factory=dict)

    @property
    def new_files(self) -> set[str]:
        return set(self.files_after) - set(self.files_before)

    @property
    def changed(self) -> set[str]:
        return {p for p, h in self.files_before.items() if self.files_after.get(p) != h}


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (hidden files too)."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            if path.is_symlink():
                out[str(path.relative_to(folder))] = "link:" + os.readlink(path)
            else:
                out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def run_cli(argv: list[str], folder: Path) -> Run:
    """Run ``wergap argv`` in ``folder`` in-process; capture exit code, stdout, stderr."""
    from wergap.cli import main

    before = tree(folder)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exit_:  # argparse
                code = int(exit_.code or 0)
    finally:
        os.chdir(cwd)
    return Run(code, out.getvalue(), err.getvalue(), before, tree(folder))


def assert_refused(run: Run, code: int, message: str) -> None:
    """The checks of a failing run (see the module docstring)."""
    lines = run.err.strip().splitlines()
    assert run.code == code, (run.code, run.err, run.out)
    assert "Traceback" not in run.err
    assert len(lines) == 1, run.err
    assert lines[0].startswith("wergap"), lines[0]
    assert message in lines[0], (message, lines[0])
    assert not run.changed, f"inputs changed: {run.changed}"
    assert not run.new_files, f"left behind: {run.new_files}"


# ------------------------------------------------------------------ small real inputs


def log_frame(n_speakers: int = 80, utterances: int = 3, seed: int = 0) -> pd.DataFrame:
    """A decode log with a worse-served region, ZIPs, a gender column and transcripts."""
    rng = np.random.default_rng(seed)
    words = "turn on the kitchen lights please play some music now".split()
    rows = []
    for s in range(n_speakers):
        lat, lon = 30 + 10 * rng.random(), -100 + 20 * rng.random()
        worse = lat > 36
        for u in range(utterances):
            ref = " ".join(rng.choice(words, 6))
            hyp = " ".join(w if rng.random() > (0.3 if worse else 0.08) else "uh" for w in ref.split())
            rows.append(
                {
                    "utt_id": f"s{s:03d}-{u}",
                    "speaker_id": f"s{s:03d}",
                    "ref": ref,
                    "hyp": hyp,
                    "lat": round(lat, 4),
                    "lon": round(lon, 4),
                    "zip": f"{10001 + s % 40:05d}",
                    "gender": "female" if s % 2 else "male",
                }
            )
    return pd.DataFrame(rows)


def write_log(path: Path, frame: pd.DataFrame | None = None) -> Path:
    frame = log_frame() if frame is None else frame
    suffix = path.suffix
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    return path


def write_census(path: Path, n_zips: int = 40) -> Path:
    zips = [f"{10001 + i:05d}" for i in range(n_zips)]
    share = np.linspace(0.1, 0.9, n_zips)
    pd.DataFrame(
        {"zip": zips, "share_a": share, "share_b": 1 - share, "income": np.linspace(20000, 90000, n_zips)}
    ).to_csv(path, index=False)
    return path


def write_embeddings(path: Path, speakers: list[str], dim: int = 8, zero: int = 0, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(speakers), dim)).astype("float32")
    vectors[:zero] = 0
    pd.DataFrame({"speaker_id": speakers, "embedding": list(vectors)}).to_parquet(path, index=False)
    return path


def summary_json(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
