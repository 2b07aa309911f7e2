"""arrayloss's conformance suite: every loss on every backend against PyTorch.

``python -m conformance`` runs it; :func:`check` points it at another function (a user's
own loss, another library's) to compare that with PyTorch (see docs/other-libraries.md).
"""

from .check import CheckResults, Unsupported, check, options, reduce

__all__ = ["CheckResults", "Unsupported", "check", "options", "reduce"]
