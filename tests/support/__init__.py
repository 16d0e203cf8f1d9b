"""Helpers shared by integration and browser tests (real processes, real servers)."""
