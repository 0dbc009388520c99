"""Helpers for Levante's tests: real servers on free ports, bounded polling."""
