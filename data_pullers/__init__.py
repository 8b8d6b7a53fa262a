"""Pullers that fetch one client's month of data from a helpdesk into raw_data/."""
