"""Shared test helpers: constants, builders of simulated accounts and raw files, and ways to run the scripts.
Test modules import from here, never from each other; the fixtures stay in the conftest.py files."""
