"""The core under everything: command line, errors (and the one line users see), the home, settings, secrets, URLs, files, clock, period.

May import only the standard library, the runtime packages and other modules of utils.core.
"""
