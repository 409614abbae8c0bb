"""layerwise: get Docker's layer cache right for Python applications."""

__version__ = "0.1.0"
