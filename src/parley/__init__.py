"""Parley: a self-hosted chat and SMS messaging hub speaking the Alvaria Messaging API v2.0.1."""

__version__ = "0.1.0"
