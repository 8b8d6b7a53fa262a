"""The core under everything: command line, errors, settings and secrets, files, clock, period, platform names.

May import only the standard library, the runtime packages and other modules of utils.core.
"""
