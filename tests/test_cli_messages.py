"""The command speaks in flags, starts without the library, and refuses what cannot run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wergap.cli import in_flags, main


@pytest.mark.parametrize(
    ("library", "command"),
    [
        ("missing ... (or map yours with columns=)", "missing ... (or map yours with --column THEIRS=OURS)"),
        ("choose one with columns={name: 'ref'}", "choose one with --column NAME=ref"),
        ("the header looks tab-separated: pass format='tsv'", "the header looks tab-separated: pass --format tsv"),
        (
            "add a speaker column, utt2spk=, or another speaker_pattern",
            "add a speaker column, --utt2spk, or another --speaker-pattern",
        ),
        ("no census table given (census=)", "no census table given (--census)"),
    ],
)
def test_parameter_names_become_flags(library, command):
    assert in_flags(library) == command


def test_version_imports_no_heavy_library():
    code = (
        "import sys; from wergap.cli import main\ntry: main(['--version'])\nexcept SystemExit: pass\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'sklearn', 'numba', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


def test_wrong_delimiter_names_the_flag(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("utt_id\tspeaker_id\tref\thyp\na\tb\tc\td\n", encoding="utf-8")
    assert main(["score", str(path), "-o", str(tmp_path / "s.parquet")]) == 2
    assert "pass --format tsv" in capsys.readouterr().err


def test_ids_without_speakers_stop_and_derived_speakers_are_announced(tmp_path, capsys):
    path = tmp_path / "log.tsv"
    path.write_text("utt_id\tref\thyp\n" + "".join(f"utt_{i:05d}\ta b\ta\n" for i in range(12)), encoding="utf-8")
    assert main(["score", str(path), "-o", str(tmp_path / "s.parquet")]) == 2
    assert "--speaker-pattern" in capsys.readouterr().err
    path.write_text("utt_id\tref\thyp\n" + "".join(f"s{i % 3}-{i}\ta b\ta\n" for i in range(12)), encoding="utf-8")
    assert main(["score", str(path), "-o", str(tmp_path / "s.parquet")]) == 0
    assert "note        speakers taken from utt_id" in capsys.readouterr().out


def test_a_named_method_that_cannot_run_exits_2_unless_allowed(tmp_path, capsys):
    path = tmp_path / "log.tsv"
    path.write_text("utt_id\tspeaker_id\tref_words\terrors\n" + "".join(f"u{i}\ts{i % 4}\t5\t1\n" for i in range(12)))
    args = ["audit", str(path), "-o", str(tmp_path / "r.html"), "--methods", "census_splits", "--n-boot", "10"]
    assert main(args) == 2
    assert "--methods census_splits: it cannot run: no census table given (--census)" in capsys.readouterr().err
    assert main([*args, "--allow-skip"]) == 0


def test_lazy_package_keeps_audit_a_function():
    code = "import wergap as wg, wergap.audit; print(callable(wg.audit), 'score' in dir(wg))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_public_names_are_listed_once():
    import wergap

    assert set(wergap.__all__) == {"__version__", *wergap._WHERE}
    assert all(getattr(wergap, name) is not None for name in wergap.__all__)
