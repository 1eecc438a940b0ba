"""A small self-contained HTML page for a :class:`wergap.comparison.Comparison`.

It formats what the Comparison holds and computes no statistic. Rendered with Jinja2
autoescaping, so cohort definitions and file names are escaped; no speaker id and no
transcript is written (cohort tables hold only pooled cohorts of ``min_speakers`` or more).
"""

from __future__ import annotations

import os
from typing import Any

import jinja2

from wergap._format import num
from wergap._io import write_text_atomic

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wergap comparison: {{ names[0] }} vs {{ names[1] }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:right}
td:first-child,th:first-child,td.text{text-align:left}.narrowed{color:#176b2c}.widened{color:#a11}
</style></head><body>
<h1>Cohort comparison: {{ names[0] }} → {{ names[1] }}</h1>
<p>{{ counts.shared }} utterances of {{ counts.speakers }} speakers decoded by both systems are compared;
{{ only_base }} only in {{ names[0] }} and {{ only_cand }} only in {{ names[1] }} are left out.
{% if counts.reference_words_differ %}{{ counts.reference_words_differ }} shared utterances have different
reference word counts in the two logs (each system is scored against its own).{% endif %}
Cohorts were discovered on {{ names[0] }}; intervals are {{ level }} paired speaker-bootstrap percentile
intervals ({{ n_boot }} resamples, seed {{ seed }}).</p>
<ul>{% for v in verdicts %}<li>{{ v }}</li>{% endfor %}</ul>
{% for m in methods %}
<h2>{{ m.method }}: <span class="{{ m.outcome|replace(' ', '-') }}">{{ m.outcome }}</span></h2>
{% if m.held %}<p>Held-out gap (cohorts found on one half of the speakers, measured on the other): <strong>{{ m.held }}</strong>.</p>{% endif %}
<p>{% if m.held %}In-sample gap (found and measured on the same speakers, optimistic){% else %}Gap (bottom vs top, relative){% endif %}: {{ m.gap_base }} → {{ m.gap_cand }}; change {{ m.change }} points ({{ m.change_ci }}).</p>
{% if m.note %}<p>Note: {{ m.note }}</p>{% endif %}
<table><tr><th>cohort</th><th>definition</th><th>role</th><th>speakers</th><th>WER {{ names[0] }}</th>
<th>WER {{ names[1] }}</th><th>change (points)</th><th>{{ level }} CI</th></tr>
{% for r in m.rows %}<tr><td>{{ r.cohort }}</td><td class="text">{{ r.definition }}</td><td class="text">{{ r.role }}</td>
<td>{{ r.speakers }}</td><td>{{ r.wer_base }}</td><td>{{ r.wer_candidate }}</td><td>{{ r.change }}</td><td>{{ r.ci }}</td></tr>
{% endfor %}</table>
{% endfor %}
</body></html>
"""


def _pct(value: Any, digits: int = 1) -> str:
    return num(value, digits, " %", na="n/a")


def _pts(value: Any) -> str:
    return num(value, 2, signed=True, na="n/a")


def render_compare_html(comparison: Any) -> str:
    """The HTML page of ``comparison`` as a string."""
    summary = comparison.summary()
    methods = []
    for _, row in summary.iterrows():
        table = comparison.cohorts(row["method"])
        rows = [
            {
                "cohort": r["cohort"],
                "definition": r["definition"],
                "role": r["role"],
                "speakers": int(r["speakers"]),
                "wer_base": _pct(100 * r["wer_base"], 2),
                "wer_candidate": _pct(100 * r["wer_candidate"], 2),
                "change": _pts(r["change_pts"]),
                "ci": f"{_pts(r['change_ci_low'])} to {_pts(r['change_ci_high'])}",
            }
            for _, r in table.iterrows()
        ]
        methods.append(
            {
                "method": row["method"],
                "outcome": row["outcome"],
                "gap_base": _pct(row["gap_base_pct"]),
                "gap_cand": _pct(row["gap_candidate_pct"]),
                "change": _pts(row["gap_change_pts"]),
                "change_ci": f"CI {_pts(row['gap_change_ci_low'])} to {_pts(row['gap_change_ci_high'])}",
                "rows": rows,
                "held": None
                if row["held_out_outcome"] in ("not computed", "unmeasured")
                else (
                    f"{row['held_out_outcome']}, {_pct(row['held_out_gap_base_pct'])} → "
                    f"{_pct(row['held_out_gap_candidate_pct'])}, change {_pts(row['held_out_change_pts'])} points "
                    f"(CI {_pts(row['held_out_change_ci_low'])} to {_pts(row['held_out_change_ci_high'])})"
                ),
                "note": row["note"],
            }
        )
    names = comparison.names
    env = jinja2.Environment(autoescape=True)
    return env.from_string(TEMPLATE).render(
        names=names,
        counts=comparison.counts,
        only_base=comparison.counts.get(f"only_{names[0]}", 0),
        only_cand=comparison.counts.get(f"only_{names[1]}", 0),
        level=f"{100 * comparison.confidence:g} %",
        n_boot=comparison.n_boot,
        seed=comparison.seed,
        verdicts=comparison.verdicts(),
        methods=methods,
    )


def write_compare_html(comparison: Any, path: str | os.PathLike[str]) -> None:
    """Write the comparison page to ``path`` atomically."""
    write_text_atomic(path, render_compare_html(comparison))
