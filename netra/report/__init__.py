"""Reports: markdown and structured, every figure cited from a tool call."""

from netra.report.build import build_report

__all__ = ["build_report"]
