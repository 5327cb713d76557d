"""Benchmarks: `make bench` writes bench/RESULTS.md."""
