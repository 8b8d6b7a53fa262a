"""Stand-ins for the services IntegoReport reads and writes, with their demo data.

Tests, benchmarks and `pull_info.py --demo` use them; production code never imports them, except the demo.
"""
