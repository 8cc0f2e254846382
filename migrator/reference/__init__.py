"""Python reference model of tt-metal's sliding-window halo math (see config.py for the config type)."""

from migrator.reference.config import SlidingWindowConfig

__all__ = ["SlidingWindowConfig"]
