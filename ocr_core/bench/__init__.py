"""Benchmarks that print the issue's ratios: `python -m ocr_core.bench` (see `__main__`)."""
