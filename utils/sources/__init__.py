"""The data sources, each declared once (Freshservice, Microsoft 365, SentinelOne): settings, client, pull, check, section.

May import utils.core, utils.services, utils.delivery, utils.reporting and utils.sources; the run and the scripts loop over them.
"""
