"""oppshape: multi-agent learning where agents reason about each other's learning, on TorchRL."""

__version__ = "0.1.0"
