"""The installed version of runwright."""

__version__ = "0.1.0"
