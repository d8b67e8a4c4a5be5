"""Reading published snapshots: locked-down connections and the typed query runner (no Streamlit)."""
