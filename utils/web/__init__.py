"""The internal web interface (main.py): sign-in, the client list, runs, reports, sending, the setup check.

A script-tier package: it drives the scripts' own entry points (pull_info, send_reports, the client list) and may import every utils package.
"""
