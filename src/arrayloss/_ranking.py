"""The listwise reductions of optax's ranking losses (``optax/losses/_ranking.py``), for
``arrayloss.optax.ranking_softmax_loss``: :func:`mean` (optax's default ``reduce_fn``,
``jnp.mean``, on any backend) and :func:`safe_reduce` (optax's ``_safe_reduce``).

The per-list loss itself is a softmax cross entropy with the (weighted) relevance
labels as unnormalized targets: :func:`arrayloss.cross_entropy`'s kernel, not written
here again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._dispatch import namespace_of

__all__ = ["array_library_reduction", "mean", "safe_reduce"]

#: The array libraries whose ``mean`` and ``sum`` are recognized as a ``reduce_fn``.
_LIBRARIES = frozenset(
    {"array_api_compat", "array_api_strict", "cupy", "dask", "jax", "numpy", "torch"}
)


def mean(a: Any, where: Any = None) -> Any:
    """``jnp.mean(a, where=where)`` on any backend: the mean of ``a``'s elements where
    ``where`` (broadcast to ``a``) is True, NaN over no element.

    The default ``reduce_fn`` of ``arrayloss.optax.ranking_softmax_loss``, standing for
    optax's ``jax.numpy.mean`` (which would not take a torch tensor).
    """
    xp = namespace_of(a=a, where=where).xp
    if where is None:
        return xp.mean(a)
    keep = xp.broadcast_to(where, a.shape) if tuple(where.shape) != tuple(a.shape) else where
    total = xp.sum(xp.where(keep, a, xp.zeros_like(a)))
    return total / xp.sum(xp.astype(keep, a.dtype))


def array_library_reduction(fn: object) -> str | None:
    """``'mean'`` or ``'sum'`` when ``fn`` is :func:`mean` or an array library's ``mean``
    or ``sum`` (``jax.numpy``, NumPy, PyTorch, Dask, CuPy, array-api-strict,
    array-api-compat's namespaces: by ``__name__`` and the root of ``__module__``);
    None for any other callable."""
    if fn is mean:
        return "mean"
    name = getattr(fn, "__name__", None)
    module = getattr(fn, "__module__", None) or ""
    if name in ("mean", "sum") and module.split(".")[0] in _LIBRARIES:
        return str(name)
    return None


def safe_reduce(xp: Any, loss: Any, where: Any | None, reduce_fn: Callable[..., Any] | None) -> Any:
    """optax's ``_safe_reduce(loss, where, reduce_fn)``, ``where`` a boolean array of
    ``loss``' shape or None.

    - ``reduce_fn=None``: ``loss`` with the elements outside ``where`` set to 0.
    - a mean (:func:`array_library_reduction`): the mean over ``where``, 0 over no
      element (optax: for ``jnp.mean``, unless ``loss`` holds a NaN). Computed as the
      masked sum over ``max(count, 1)``, so that a mean over nothing also has a zero
      gradient (optax's: 0 too).
    - a sum: the sum over ``where``.
    - any other callable: ``reduce_fn(loss, where=where)``, as optax calls it, with
      ``loss`` an array of the inputs' library.
    """
    if reduce_fn is None:
        if where is None:
            return loss
        return xp.where(where, loss, xp.zeros_like(loss))
    kind = array_library_reduction(reduce_fn)
    if kind is None:
        return reduce_fn(loss, where=where)
    kept = loss if where is None else xp.where(where, loss, xp.zeros_like(loss))
    total = xp.sum(kept)
    if kind == "sum":
        return total
    count = xp.sum(xp.ones_like(loss) if where is None else xp.astype(where, loss.dtype))
    return total / xp.where(count > 0, count, xp.ones_like(count))
