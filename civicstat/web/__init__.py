"""The Streamlit layer, the only package that imports streamlit: data layer, page parts, charts, maps."""
