"""IntegoReport's engine, one package per part of the pipeline: core, services, delivery, reporting, sources, monthly.

Imports go one way, from a package to its own or a lower one in that list (tests/project/test_layout.py checks it).
"""
