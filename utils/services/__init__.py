"""Everything that talks to a data service: the one retry policy, paging, each service's client and puller, the client list.

May import utils.core and utils.services; never delivery, reporting, sources, monthly or the scripts.
"""
