"""Files the product writes: CSV with one escaping policy, Parquet, the PDF brief."""
