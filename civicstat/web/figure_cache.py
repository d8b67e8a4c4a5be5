"""Built charts, maps and display tables kept between script runs and sessions.

Building a Plotly figure or a pydeck map costs more Python time than anything else in a page
run (plotly validates every property it is given): about half of the Overview's 0.08 s of
server CPU at 10 million requests. The same filters give the same query results, so the same
figures: a builder decorated here runs once per distinct input (its arguments are keyed by
content), and every later run with those inputs reuses the figure. Frames and lists are keyed by
their pickled bytes: the same content, ten to twenty times faster than Streamlit's own hashing,
which walks lists item by item and hashes Arrow-backed text columns slowly.

The cached object is shared, not copied: callers pass it straight to st.plotly_chart or
st.pydeck_chart, which only read it. Inputs are figures already fit to be shown to whoever
asked (public data is suppressed below k before it gets here), and an entry is only ever
returned for identical inputs, so no cache entry can show one audience another's data.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import streamlit as st

# Entries per builder. Figures and tables are a few KB (a district map some tens of KB): a few
# MB at most per builder.
FIGURE_CACHE_ENTRIES = 200

Builder = TypeVar("Builder", bound=Callable)


def cached_figure(builder: Builder) -> Builder:
    """Keep `builder`'s results, keyed by its arguments' content (bounded, least recent out)."""
    return st.cache_resource(
        max_entries=FIGURE_CACHE_ENTRIES, show_spinner=False, hash_funcs=_BY_CONTENT
    )(builder)


def _pickled(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


_BY_CONTENT = {pd.DataFrame: _pickled, list: _pickled}
