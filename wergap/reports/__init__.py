"""Disparity reports: self-contained HTML and machine-readable exports."""
