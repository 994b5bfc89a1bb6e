"""The ``confluence`` driver: the workflow table (``workflow.toml``) and the engines that run it.

The driver only orchestrates: which step runs, how many children, with which
volumes, in which order.  All science lives in the module images.
"""

__version__ = "0.1.0"
