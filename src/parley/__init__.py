"""Parley: a self-hosted chat and SMS messaging hub speaking the Alvaria Messaging API v2.0.1."""

from parley import _native as _native  # decides, before anything else is imported, whether compiled modules run

__version__ = "0.1.0"
