"""Reports for the Jugendamt (Berichte): occupancy, unmet demand, module hours, cross-provider use.

Pure query and aggregation functions with keyword-only arguments; no Flask. Every report
loads its facts in a fixed number of grouped queries and aggregates them in Python, and
returns `ReportTable`s (`tables.py`) that the pages, charts and exports (CSV, XLSX, PDF)
share. Filters: `filters.parse_filters`. Sign-off of a month: `signoff.py`.
"""

from .crossuse import CrossUseReport, cross_provider
from .demand import REASONS, DemandReport, reason_code, unmet_demand
from .filters import ReportFilters, default_filters, parse_filters
from .hours import ModuleHoursReport, module_hours
from .occupancy import OccupancyReport, occupancy
from .tables import Column, Kind, ReportTable

__all__ = [
    "REASONS", "Column", "CrossUseReport", "DemandReport", "Kind", "ModuleHoursReport", "OccupancyReport",
    "ReportFilters", "ReportTable", "cross_provider", "default_filters", "module_hours", "occupancy",
    "parse_filters", "reason_code", "unmet_demand",
]
