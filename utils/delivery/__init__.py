"""Emailing the built reports: the message, the delivery record, SMTP and Mailchimp Transactional.

May import utils.core, utils.services (the retry policy) and utils.delivery.
"""
