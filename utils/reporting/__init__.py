"""The reporting engine: metrics, history, attention, the view model, rendering, email checks, the MSP's month index.

May import utils.core, utils.services, utils.delivery (the record the index shows) and utils.reporting; never the network.
"""
