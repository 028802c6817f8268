"""The demo district Landkreis Darmstadt-Dieburg: data files (seed/data) and the loader.

`load_demo(session)` is idempotent; `flask --app marketplace seed demo` calls it.
"""

from .demo import district_counts, load_demo, summary_de

__all__ = ["district_counts", "load_demo", "summary_de"]
