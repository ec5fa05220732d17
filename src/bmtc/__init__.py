"""bmtc: evidence engine for the North American battery-materials supply chain."""

from bmtc.api import Atlas, open

__all__ = ["Atlas", "open"]
__version__ = "0.1.0"
