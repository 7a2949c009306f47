"""Benchmarks: figures measured against the raw frameworks in the same run, printed as ratios."""
