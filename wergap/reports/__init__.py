"""Disparity reports: self-contained HTML and machine-readable exports.

``html`` renders the one-file report (Jinja2 template + figures from ``figures``);
``exports`` writes ``summary.json``, ``cohorts.csv``, ``assignments.parquet`` and
``regions.geojson``. Both format what an :class:`wergap.audit.Audit` holds.
"""

from wergap.reports.exports import write_exports
from wergap.reports.html import render_html, write_html

__all__ = ["render_html", "write_exports", "write_html"]
