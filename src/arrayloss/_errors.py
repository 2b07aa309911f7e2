"""The exception types of arrayloss, where PyTorch raises ``RuntimeError``.

They derive from both the natural Python type and ``RuntimeError``, so code written
against either (``except ValueError`` or PyTorch's ``except RuntimeError``) keeps working.
"""

from __future__ import annotations

__all__ = ["ArrayLossIndexError", "ArrayLossTypeError", "ArrayLossValueError"]


class ArrayLossIndexError(IndexError, RuntimeError):
    """An ``IndexError`` for a class index out of range: PyTorch raises ``IndexError``
    in ``nll_loss`` and ``cross_entropy`` but ``RuntimeError`` in
    ``multi_margin_loss``; this is both."""


class ArrayLossTypeError(TypeError, RuntimeError):
    """A ``TypeError`` where PyTorch raises ``RuntimeError`` (e.g. a wrong dtype)."""


class ArrayLossValueError(ValueError, RuntimeError):
    """A ``ValueError`` where PyTorch raises ``RuntimeError`` (e.g. a value out of range,
    arrays on two devices)."""
