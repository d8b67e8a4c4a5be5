"""The domain: schema, metric definitions, privacy rules, filters and value formats (no Streamlit)."""
