"""The release gate behind ``wergap check``: fail when a held-out gap exceeds a threshold.

It gates on the held-out gap (discovered on one half of the speakers, measured on the
other), never on the in-sample gap, which the search that found the cohort inflates; with
``strict`` on the interval's lower bound, failing closed when a named method was not measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wergap._json import jsonable
from wergap.audit import Audit
from wergap.errors import InputError

BAD_MAX_GAP = "max_gap must be a non-negative number of percent, got {value!r}"
UNKNOWN_CHECK_METHOD = "method {method!r} was not requested from the audit (it ran: {ran})"


@dataclass
class MethodCheck:
    """The gate's decision for one discovery method.

    Attributes
    ----------
    method : str
    status : {"pass", "fail", "unmeasured", "skipped"}
        ``unmeasured``: the method was asked for by name but did not run, or its held-out
        gap (with strict: its interval) is NaN. ``skipped``: not asked for by name and its
        inputs are absent (no lat/lon, no census, no embeddings); it never fails the gate.
    failed : bool
        Whether this method makes the gate fail (an unmeasured method fails only with
        ``strict``: fail-closed).
    gap_pct, ci_low, ci_high : float
        Held-out gap and its interval.
    tested : float
        The number compared with the threshold: ``gap_pct``, or ``ci_low`` with strict.
    line : str
        The one-line reason printed by ``wergap check``.
    """

    method: str
    status: str
    failed: bool
    gap_pct: float
    ci_low: float
    ci_high: float
    tested: float
    line: str


@dataclass
class CheckResult:
    """Outcome of :func:`check`: one :class:`MethodCheck` per selected method."""

    max_gap: float
    strict: bool
    checks: list[MethodCheck]

    @property
    def passed(self) -> bool:
        """True when no method failed and at least one was measured."""
        return not any(c.failed for c in self.checks) and self.measured

    @property
    def measured(self) -> bool:
        """True when at least one method's gap was compared with the threshold."""
        return any(c.status in ("pass", "fail") for c in self.checks)

    @property
    def exit_code(self) -> int:
        """0 when :attr:`passed`, else 1 (the CLI's exit status)."""
        return 0 if self.passed else 1

    def lines(self) -> list[str]:
        """One line per method, then the overall decision."""
        out = [c.line for c in self.checks]
        if not self.measured:
            out.append("FAIL  no method could be measured: nothing was gated")
        else:
            out.append(
                ("PASS" if self.passed else "FAIL")
                + f"  held-out gap threshold {self.max_gap:g} %"
                + (" (strict: CI lower bound)" if self.strict else "")
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (NaN as None), ready for JSON."""
        return jsonable(
            {
                "passed": self.passed,
                "exit_code": self.exit_code,
                "max_gap_pct": self.max_gap,
                "strict": self.strict,
                "methods": [c.__dict__ for c in self.checks],
                "lines": self.lines(),
            }
        )


def check(audit: Audit, max_gap: float, *, methods: Sequence[str] | None = None, strict: bool = False) -> CheckResult:
    """Release gate: does any method's held-out WER gap exceed ``max_gap`` percent?

    The held-out gap is used, not the in-sample one: a gap found by searching for the
    worst cohort overstates itself, and a gate on it would fail every system.

    Parameters
    ----------
    audit : Audit
        Result of :func:`wergap.audit`.
    max_gap : float
        Threshold in percent (relative gap, 100 (WER_bottom − WER_top) / WER_top).
    methods : sequence of str, optional
        Methods to gate on; default every method the audit tried. A method named here that
        did not run is ``unmeasured``; one not named whose inputs were absent is
        ``skipped`` and never fails the gate.
    strict : bool, default False
        Compare the interval's lower bound with ``max_gap`` instead of the point estimate:
        fail only when the gap is above the threshold beyond sampling noise. Strict mode
        also fails closed: a method that did not run or whose held-out gap (or interval)
        is NaN fails. Without ``strict`` the point estimate is compared and an unmeasured
        method is reported as ``UNMEASURED`` without failing -- unless no selected method
        was measured at all, which always fails (nothing was gated).

    Returns
    -------
    CheckResult
        ``exit_code`` 1 on failure, 0 otherwise.
    """
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, float)) or not max_gap >= 0:
        raise InputError(BAD_MAX_GAP.format(value=max_gap))
    tried = list(audit.params.get("methods", audit.methods))
    chosen = list(methods) if methods is not None else tried
    checks = []
    for method in chosen:
        nan = math.nan
        if method not in audit.methods:
            reason = audit.skipped.get(method) or UNKNOWN_CHECK_METHOD.format(
                method=method, ran=", ".join(audit.methods) or "none"
            )
            if methods is None:  # not asked for by name: its inputs are absent, nothing to gate
                line = f"SKIPPED  {method}: did not run ({reason})"
                checks.append(MethodCheck(method, "skipped", False, nan, nan, nan, nan, line))
                continue
            line = f"{'FAIL' if strict else 'UNMEASURED'}  {method}: did not run ({reason})"
            checks.append(MethodCheck(method, "unmeasured", strict, nan, nan, nan, nan, line))
            continue
        held = audit.held_out[method]
        gap, low, high = float(held.gap_pct), float(held.ci_low), float(held.ci_high)
        tested = low if strict else gap
        ci = f"CI {low:.1f} to {high:.1f} %" if not math.isnan(low) else "no CI"
        what = "CI lower bound" if strict else "held-out gap"
        if math.isnan(tested):
            why = held.reason or ("no interval (n_boot=0)" if not math.isnan(gap) else None)
            line = f"{'FAIL' if strict else 'UNMEASURED'}  {method}: {what} not measurable ({why or 'NaN'})"
            checks.append(MethodCheck(method, "unmeasured", strict, gap, low, high, tested, line))
            continue
        failed = tested > max_gap
        verb = "exceeds" if failed else "within"
        gaps = getattr(audit, "gaps", {})
        in_sample = gaps[method].gap_pct if method in gaps else float("nan")
        optimistic = "" if math.isnan(in_sample) else f"; in-sample {in_sample:.1f} % (optimistic, not gated)"
        if strict:
            headline = f"held-out gap {gap:.1f} % ({ci}): CI lower bound {low:.1f} % {verb} {max_gap:g} %"
        else:
            headline = f"held-out gap {gap:.1f} % ({ci}) {verb} {max_gap:g} %"
        line = f"{'FAIL' if failed else 'PASS'}  {method}: {headline}{optimistic}"
        checks.append(MethodCheck(method, "fail" if failed else "pass", failed, gap, low, high, tested, line))
    return CheckResult(max_gap=float(max_gap), strict=strict, checks=checks)
