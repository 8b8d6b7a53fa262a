"""Shared machinery of IntegoReport: configuration, the Freshservice client, files, the simulator."""
