"""Reports: markdown and structured, every figure cited from a tool call; `Report` from the graph to the client."""

from netra.report.build import build_report
from netra.report.record import Report

__all__ = ["Report", "build_report"]
