"""The connectionist temporal classification (CTC) loss.

A short front (namespace, validation, reduction) over a private kernel that runs the
forward (alpha) recursion of Graves et al. (2006) in log space, vectorized over the batch
and the extended-label axis; the only loop is over time (:func:`arrayloss._dispatch.scan`:
``jax.lax.scan`` on JAX, a Python loop elsewhere).

Why a finite floor instead of -inf: ``logaddexp(-inf, -inf)`` is -inf, but its gradient
is ``exp(-inf - -inf) = nan`` in PyTorch and JAX alike, and the recursion meets it at
every state that no path reaches yet. Impossible states hold :data:`_FLOOR` (``-1e30``,
finite in float32) instead; ``exp(_FLOOR - x)`` is exactly 0 beside any real
log-probability, so values equal those of the -inf recursion, and a log-likelihood
below ``_FLOOR / 2`` is read back as -inf (the loss as +inf, as PyTorch).
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat

from ._dispatch import ArrayContext, device_of, namespace_of, native_ctc_loss, scan
from ._errors import ArrayLossIndexError, ArrayLossTypeError, ArrayLossValueError
from ._numerics import compute_dtype
from ._reduction import apply_reduction, validate_empty, validate_reduction
from ._validation import check_array, check_floating, check_integer

__all__ = ["ctc_loss"]

#: The log-probability of an impossible state (see the module docstring).
_FLOOR = -1e30


# --- validation ----------------------------------------------------------------------------


def _check_blank(blank: object) -> int:
    if isinstance(blank, bool) or not isinstance(blank, int):
        raise TypeError(f"`blank` must be an int; got {type(blank).__name__}")
    return blank


def _lengths(ctx: ArrayContext, name: str, lengths: Any, log_probs: Any, batch: int) -> Any:
    """``lengths`` (an integer array of any shape, or a sequence of ints) as an array of
    shape (N,) and the default integer dtype, on ``log_probs``' device (PyTorch also
    accepts CPU lengths for CUDA inputs)."""
    xp = ctx.xp
    if array_api_compat.is_array_api_obj(lengths):
        _check_library(log_probs, name, lengths)
        check_integer(xp, name, lengths)
        lengths = ctx.on_device(lengths)
        size = 1
        for n in lengths.shape:
            size *= int(n)
        if size != batch:
            raise ArrayLossValueError(
                f"`{name}` must hold one length per sample ({batch}); got shape "
                f"{tuple(lengths.shape)}"
            )
        return xp.reshape(xp.astype(lengths, ctx.index_dtype, copy=False), (batch,))
    if isinstance(lengths, Sequence) and not isinstance(lengths, str):
        values = []
        for v in lengths:
            try:
                values.append(operator.index(v))
            except TypeError:
                raise ArrayLossTypeError(
                    f"`{name}` must hold integers; got an element of type {type(v).__name__}"
                ) from None
        if len(values) != batch:
            raise ArrayLossValueError(
                f"`{name}` must hold one length per sample ({batch}); got {len(values)}"
            )
        return xp.asarray(values, dtype=ctx.index_dtype, device=ctx.device)
    raise TypeError(
        f"`{name}` must be an integer array or a sequence of ints (as PyTorch's tensor or "
        f"tuple of ints); got {type(lengths).__name__}"
    )


def _check_library(log_probs: Any, name: str, x: Any) -> None:
    """``x`` must be an array of ``log_probs``' library (named errors from dispatch); a
    device other than ``log_probs``' is accepted (the caller moves ``x`` there), as
    PyTorch accepts CPU targets and lengths beside CUDA log-probabilities."""
    with contextlib.suppress(ArrayLossValueError):  # two devices: moved by the caller
        namespace_of(log_probs=log_probs, **{name: x})


def _check_values(
    ctx: ArrayContext,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    n_time: int,
) -> None:
    """On eager arrays, the checks of PyTorch's ``ctc_loss_allocate_outputs``: lengths
    in range and the targets' size."""
    xp = ctx.xp
    if int(input_lengths.shape[0]) == 0:
        return
    for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        low = int(xp.min(lengths))
        if low < 0:
            raise ArrayLossValueError(f"`{name}` must be at least 0; got {low}")
    high = int(xp.max(input_lengths))
    if high > n_time:
        raise ArrayLossValueError(
            f"`input_lengths` must be at most T = {n_time} (log_probs' first dimension); got {high}"
        )
    longest = int(xp.max(target_lengths))
    if targets.ndim == 1:
        total = int(xp.sum(target_lengths))
        if int(targets.shape[0]) != total:
            raise ArrayLossValueError(
                f"concatenated `targets` must have sum(target_lengths) = {total} elements; "
                f"got {int(targets.shape[0])}"
            )
    elif longest > int(targets.shape[1]):
        raise ArrayLossValueError(
            f"`target_lengths` must be at most S = {int(targets.shape[1])} (padded targets' "
            f"second dimension); got {longest}"
        )


def _check_labels(ctx: ArrayContext, labels: Any, used: Any, n_classes: int) -> None:
    """On eager arrays, every used label lies in [0, C) (PyTorch reads out of bounds)."""
    xp = ctx.xp
    if labels.shape[0] == 0 or labels.shape[1] == 0:
        return
    bad = used & ((labels < 0) | (labels >= n_classes))
    if bool(xp.any(bad)):
        value = int(xp.max(xp.where(bad, labels, xp.zeros_like(labels))))
        if value < n_classes:
            value = int(xp.min(xp.where(bad, labels, xp.zeros_like(labels))))
        raise ArrayLossIndexError(
            f"`targets` holds label {value}, outside [0, {n_classes}) (C = {n_classes})"
        )


def _validated(
    ctx: ArrayContext,
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: Any,
    *,
    keep_padding: bool = False,
) -> tuple[Any, Any, Any, Any, bool]:
    """:func:`ctc_loss`'s checks of its arrays and ``blank``: ``log_probs`` as
    (T, N, C), the targets as padded labels (N, S) of the default integer dtype (every
    position past a sample's length set to ``blank``, or with ``keep_padding`` only
    those out of [0, C)), the lengths as (N,), and whether ``log_probs`` was batched."""
    xp = ctx.xp
    blank = _check_blank(blank)
    check_floating(xp, "log_probs", log_probs)
    check_array("targets", targets)
    _check_library(log_probs, "targets", targets)
    check_integer(xp, "targets", targets, "of labels")
    if log_probs.ndim not in (2, 3):
        raise ArrayLossValueError(
            f"`log_probs` must have shape (T, N, C) or (T, C); got {tuple(log_probs.shape)}"
        )
    if 0 in tuple(log_probs.shape):
        raise ArrayLossValueError(
            f"`log_probs` must not be empty (as PyTorch); got shape {tuple(log_probs.shape)}"
        )
    batched = log_probs.ndim == 3
    if not batched:
        log_probs = log_probs[:, None, :]
    n_time, batch, n_classes = (int(n) for n in log_probs.shape)
    if not 0 <= blank < n_classes:
        raise ArrayLossValueError(
            f"`blank` must be a class index in [0, {n_classes}) (C = {n_classes}); got {blank}"
        )
    if targets.ndim not in (1, 2):
        raise ArrayLossValueError(
            f"`targets` must have shape (N, S) (padded) or (sum(target_lengths),) "
            f"(concatenated); got {tuple(targets.shape)}"
        )
    if targets.ndim == 2 and int(targets.shape[0]) != batch:
        raise ArrayLossValueError(
            f"padded `targets` must have N = {batch} rows (log_probs' batch); got "
            f"{tuple(targets.shape)}"
        )
    targets = ctx.on_device(targets)
    input_lengths = _lengths(ctx, "input_lengths", input_lengths, log_probs, batch)
    target_lengths = _lengths(ctx, "target_lengths", target_lengths, log_probs, batch)
    if ctx.eager:
        _check_values(ctx, targets, input_lengths, target_lengths, n_time)
    index = ctx.index_dtype
    if targets.ndim == 1:
        # The longest target: read on eager arrays; traced or lazy, every label fits.
        if ctx.eager:
            longest = int(xp.max(target_lengths)) if batch else 0
        else:
            longest = int(targets.shape[0])
        labels = _padded_targets(xp, xp.astype(targets, index, copy=False), target_lengths, longest)
    else:
        labels = xp.astype(targets, index, copy=False)
    j = xp.arange(int(labels.shape[1]), dtype=index, device=_device(labels))
    used = j[None, :] < target_lengths[:, None]
    if ctx.eager:
        _check_labels(ctx, labels, used, n_classes)
    if keep_padding:  # ctc_loss_with_forward_probs: optax's labels past the lengths too
        used = xp.ones_like(used)
    labels = xp.where(used & (labels >= 0) & (labels < n_classes), labels, blank)
    return log_probs, labels, input_lengths, target_lengths, batched


# --- kernel --------------------------------------------------------------------------------


def _padded_targets(xp: Any, targets: Any, target_lengths: Any, max_length: int) -> Any:
    """Concatenated targets (sum(target_lengths),) as padded (N, max_length)."""
    n = int(target_lengths.shape[0])
    starts = xp.cumulative_sum(target_lengths) - target_lengths
    j = xp.arange(max_length, dtype=target_lengths.dtype, device=_device(targets))
    index = starts[:, None] + j[None, :]
    size = int(targets.shape[0])
    if size == 0 or n == 0:
        return xp.zeros((n, max_length), dtype=targets.dtype, device=_device(targets))
    index = xp.clip(index, 0, size - 1)  # positions past a sample's end: masked later
    return xp.reshape(xp.take(targets, xp.reshape(index, (-1,)), axis=0), (n, max_length))


def _device(x: Any) -> Any:
    # None for a JAX array sharded over several devices (see device_of).
    return device_of(x)


# Thread-safe: two threads missing the cache at once each build an equivalent step;
# one is kept (JAX may then trace the scan twice: time, not results).
@functools.cache
def _forward_step(xp: Any) -> Callable[[Any, Any], Any]:
    """One step of the alpha recursion for the namespace ``xp``: the same function
    object at every call, so that JAX reuses its traced and compiled scan (the loop's
    constants ride in the carry rather than in a closure)."""

    def step(carry: tuple[Any, Any, Any], x: tuple[Any, Any]) -> tuple[Any, Any, Any]:
        alpha, skip_penalty, lead = carry
        emit_t, active_t = x
        padded = xp.concat([lead, alpha], axis=1)
        stay_or_advance = xp.logaddexp(alpha, padded[:, 1:-1])
        new = xp.logaddexp(stay_or_advance, padded[:, :-2] + skip_penalty) + emit_t
        return xp.where(active_t, new, alpha), skip_penalty, lead

    return step


def _ctc_forward(
    ctx: ArrayContext,
    log_probs: Any,
    labels: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int,
    *,
    log_epsilon: float = _FLOOR,
    collect: bool = False,
) -> tuple[Any, Any]:
    """The forward recursion: the log-likelihood per sample (N,) and, with ``collect``,
    the forward variables :math:`\alpha_t(s)` after every frame, (T, N, 2S+1) (frozen
    past a sample's input length); else None.

    ``log_probs`` (T, N, C) in the compute dtype; ``labels`` (N, S) integers in [0, C)
    (positions past a sample's target length do not reach its log-likelihood: the
    recursion at s reads s-1 and s-2 only). ``log_epsilon``: the log-probability given
    to the states no path reaches before t = 0 and added to a forbidden skip (s-2 to s
    onto a repeated label); :data:`_FLOOR` (as -inf) by default, optax's value for
    ``arrayloss.optax.ctc_loss_with_forward_probs``, which then runs optax's recursion
    (optax's ``log_epsilon * repeat`` is this skip penalty). The emissions' clamp, the
    states before s = 0 and a sample's missing last label stay at :data:`_FLOOR`.
    """
    xp = ctx.xp
    n_time, batch = int(log_probs.shape[0]), int(log_probs.shape[1])
    n_labels = int(labels.shape[1])
    width = 2 * n_labels + 1
    dtype = log_probs.dtype
    device = _device(log_probs)
    index = labels.dtype
    # The extended labels l' = (blank, l1, blank, l2, ..., blank): (N, 2S+1).
    blanks = xp.full((batch, n_labels), blank, dtype=index, device=device)
    ext = xp.reshape(xp.stack([blanks, labels], axis=2), (batch, 2 * n_labels))
    ext = xp.concat([ext, xp.full((batch, 1), blank, dtype=index, device=device)], axis=1)
    # A path may skip from s-2 to s where l'[s] != l'[s-2] (never onto a blank, whose
    # l'[s-2] is a blank too): as PyTorch's kernel. Added to alpha[s-2]: 0 where it
    # may; the floor onto a blank; ``log_epsilon`` onto a repeated label.
    penalty = xp.asarray(log_epsilon, dtype=dtype, device=device)
    floor = xp.asarray(_FLOOR, dtype=dtype, device=device)
    s_index = xp.arange(width, dtype=index, device=device)
    on_label = (s_index % 2 == 1)[None, :]
    skip = xp.zeros((batch, width), dtype=xp.bool, device=device)
    if width > 2:
        skip = xp.concat(
            [xp.zeros((batch, 2), dtype=xp.bool, device=device), ext[:, 2:] != ext[:, :-2]],
            axis=1,
        )
    skip_penalty = xp.where(skip, xp.zeros_like(penalty), xp.where(on_label, penalty, floor))
    # The emissions lp[t, n, l'[n, s]]: one gather along the class axis for all t, as
    # (T, N, 2S+1). Not a take from log_probs flattened to (T, N * C): under jax.jit that
    # all-gathered a batch-sharded log_probs onto every device (and replicated its
    # gradient; tests/test_sharding.py), and on Dask the reshape merged the chunks of the
    # batch and class axes (tests/test_dask_scaling.py).
    ext_t = xp.broadcast_to(ext[None, :, :], (n_time, batch, width))
    emit = xp.maximum(ctx.take_along_axis(log_probs, ext_t, axis=2), floor)
    # alpha after the last step of each sample stays frozen (input_lengths[n] <= t).
    steps = xp.arange(n_time, dtype=index, device=device)
    active = (steps[:, None] < input_lengths[None, :])[:, :, None]
    # Before t = 0 every path sits in a virtual state that enters s = 0 and s = 1:
    # alpha_{-1} = log(e_0) is the same recursion's starting point (and the answer for
    # an input of length 0: 0 for an empty target, impossible otherwise).
    init = xp.where(s_index == 0, xp.zeros_like(penalty), penalty)
    init = xp.broadcast_to(init[None, :], (batch, width))
    lead = xp.full((batch, 2), _FLOOR, dtype=dtype, device=device)
    carry = (init, skip_penalty, lead)
    alphas = None
    if collect:
        (alpha, _, _), alphas = scan(ctx, _forward_step(xp), carry, (emit, active), collect=True)
    else:
        alpha, _, _ = scan(ctx, _forward_step(xp), carry, (emit, active))
    # The log-likelihood: the last label or the final blank, at 2S' - 1 and 2S'.
    last = 2 * target_lengths[:, None]
    end_blank = xp.sum(xp.where(s_index[None, :] == last, alpha, 0.0), axis=1)
    end_label = xp.sum(xp.where(s_index[None, :] == last - 1, alpha, 0.0), axis=1)
    end_label = xp.where(target_lengths > 0, end_label, floor)
    return xp.logaddexp(end_blank, end_label), alphas


def _ctc_unreduced(
    ctx: ArrayContext,
    log_probs: Any,
    labels: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int,
) -> Any:
    """The negative log-likelihood per sample (N,): +inf where no alignment exists.

    ``log_probs`` (T, N, C) in the compute dtype; ``labels`` (N, S) integers with every
    position past a sample's target length (or out of range) already set to ``blank``.
    """
    native = native_ctc_loss(ctx, log_probs)
    if native is not None:
        # ATen's kernels (the fast path says why and how the gradient stays exact).
        return native(
            log_probs,
            labels,
            input_lengths,
            target_lengths,
            blank,
            _FLOOR,
            lambda lp: _ctc_composed(ctx, lp, labels, input_lengths, target_lengths, blank),
        )
    return _ctc_composed(ctx, log_probs, labels, input_lengths, target_lengths, blank)


def _ctc_composed(
    ctx: ArrayContext,
    log_probs: Any,
    labels: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int,
) -> Any:
    """:func:`_ctc_unreduced` by the composed recursion."""
    xp = ctx.xp
    log_likelihood, _ = _ctc_forward(ctx, log_probs, labels, input_lengths, target_lengths, blank)
    impossible = log_likelihood <= _FLOOR / 2
    return xp.where(impossible, xp.full_like(log_likelihood, float("inf")), -log_likelihood)


# --- the loss ------------------------------------------------------------------------------


def ctc_loss(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The connectionist temporal classification loss.

    Mirrors :func:`torch.nn.functional.ctc_loss` (PyTorch 2.13).

    For each sample, the negative log-likelihood of its target sequence
    :math:`l = (l_1, \dots, l_{S_n})` summed over every alignment :math:`\pi` of length
    :math:`T_n` that collapses to :math:`l` (repeats merged, then blanks removed):

    .. math::

        \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_{t=1}^{T_n}
                 \exp\left(x_{t, n, \pi_t}\right)

    computed by the forward recursion over the extended labels
    :math:`l' = (b, l_1, b, \dots, l_{S_n}, b)` (:math:`b` the blank):
    :math:`\alpha_t(s) = x_{t, l'_s} + \log\left(e^{\alpha_{t-1}(s)} + e^{\alpha_{t-1}(s-1)}
    + [l'_s \ne l'_{s-2}]\, e^{\alpha_{t-1}(s-2)}\right)`, and
    :math:`\ell_n = -\log\left(e^{\alpha_{T_n}(2S_n)} + e^{\alpha_{T_n}(2S_n - 1)}\right)`.
    An impossible alignment (e.g. :math:`T_n` shorter than the target with its repeats)
    gives :math:`+\infty`, or 0 with ``zero_infinity=True`` (its gradient too).
    'mean' divides each :math:`\ell_n` by :math:`\max(S_n, 1)` and averages over the
    batch; 'sum' adds; 'none' keeps shape (N,).

    Parameters
    ----------
    log_probs : array of shape (T, N, C) or (T, C), real floating
        Log-probabilities of the C classes (blank included) at each time step, usually
        ``log_softmax`` outputs; they are not checked to be normalized.
    targets : integer array of shape (N, S) (padded) or (sum(target_lengths),)
        Labels in [0, C), not the blank; padded targets: positions past each sample's
        length are ignored. For unbatched ``log_probs``, (S,) (exactly the target
        length) or (1, S).
    input_lengths : integer array of shape (N,) (or () unbatched), or a sequence of ints
        :math:`T_n \le T` for each sample.
    target_lengths : integer array of shape (N,) (or () unbatched), or a sequence of ints
        :math:`S_n` for each sample (at most S for padded targets).
    blank : int, default 0
        The blank's class index.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    zero_infinity : bool, default False
        Give impossible alignments a loss (and gradient) of 0.
    empty : {'nan', 'zero'}, default 'nan'
        Keyword-only, arrayloss's own: what 'mean' over nothing gives (an empty
        batch, or sample weights summing to 0): NaN, as PyTorch, or 0 with 'zero'
        (its gradient 0 as well). See docs/sample-weight.md.
    sample_weight : array, bool, integer or real floating, optional
        Keyword-only, arrayloss's own: a weight per element of the
        ``reduction='none'`` output, to whose shape it must broadcast. 'none' gives
        the weighted loss (exactly 0 where the weight is 0, even where the loss is NaN
        or inf), 'sum' the weighted sum, 'mean' the weighted mean (a bool mask: the
        mean over the selected elements). See docs/sample-weight.md.

    Returns
    -------
    array
        Of ``log_probs``' library, device and dtype: shape (N,) for 'none' (() unbatched),
        0-d otherwise.

    Notes
    -----
    Value checks (lengths in range, the targets' size, labels in [0, C)) run on eager
    arrays only; under ``jax.jit`` and on Dask, lengths out of range are clipped by the
    masks and labels out of range count as blanks. The gradient is the exact derivative
    of the loss; PyTorch's differs from it by :math:`e^{x_{t,n,c}}` (see the CTC page of
    the documentation): both agree through a ``log_softmax``.

    Examples
    --------
    One frame, one label: the loss is minus the label's log-probability.

    >>> import numpy as np
    >>> import arrayloss
    >>> log_probs = np.log(np.array([[[0.25, 0.75]]]))  # T=1, N=1, C=2
    >>> loss = arrayloss.ctc_loss(log_probs, np.array([[1]]), [1], [1], reduction="sum")
    >>> bool(np.isclose(loss, -np.log(0.75)))
    True
    """
    empty = validate_empty(empty)
    ctx = namespace_of(log_probs=log_probs, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    (log_probs,) = ctx.autocast("ctc_loss", log_probs)
    xp = ctx.xp
    reduction = validate_reduction(reduction)
    log_probs, labels, input_lengths, target_lengths, batched = _validated(
        ctx, log_probs, targets, input_lengths, target_lengths, blank
    )
    result_dtype = log_probs.dtype
    work_dtype = compute_dtype(xp, result_dtype)
    with ctx.quiet_floating_point():
        loss = _ctc_unreduced(
            ctx,
            xp.astype(log_probs, work_dtype, copy=False),
            labels,
            input_lengths,
            target_lengths,
            blank,
        )
        if zero_infinity:
            loss = xp.where(loss == float("inf"), xp.zeros_like(loss), loss)
        if reduction == "mean":
            # clip, not maximum(target_lengths, 1): see _numerics.log_sigmoid.
            divisor = xp.astype(xp.clip(target_lengths, min=1), work_dtype, copy=False)
            loss = loss / divisor
        elif reduction == "none" and not batched:
            loss = xp.reshape(loss, ())
        # With sample_weight, 'mean' is sum(w l / len) / sum(w): the weighted mean of
        # the losses divided by their target lengths.
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


def _ctc_forward_variables(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    *,
    log_epsilon: float = _FLOOR,
) -> tuple[Any, Any]:
    r"""The negative log-likelihood per sample and the forward variables, unreduced:
    ``arrayloss.optax.ctc_loss_with_forward_probs`` maps them to optax's layout.

    The arguments as :func:`ctc_loss`'s, padded targets (N, S) only; labels past a
    sample's target length enter the recursion (at the states past its last label,
    which its loss never reads) where they lie in [0, C). ``log_epsilon`` is the
    log-probability of the states no path reaches at t = 0 and the penalty of a skip
    onto a repeated label (see :func:`_ctc_forward`): with optax's -1e5 the values are
    optax's, and a sample with no alignment gets a large finite loss, not +inf.

    Returns ``(nll, alpha)``: ``nll`` (N,) is :math:`-\log(e^{\alpha_{T_n}(2S_n)} +
    e^{\alpha_{T_n}(2S_n - 1)})`, ``alpha`` (T, N, 2S+1) holds :math:`\alpha_t(s)`
    after frame t over the extended labels :math:`(b, l_1, b, \dots, l_S, b)`, frozen
    from frame :math:`T_n` on; both in ``log_probs``' dtype.
    """
    ctx = namespace_of(log_probs=log_probs)
    (log_probs,) = ctx.autocast("ctc_loss", log_probs)
    xp = ctx.xp
    if getattr(targets, "ndim", 2) != 2:
        raise ArrayLossValueError(
            f"`targets` must have shape (N, S) (padded); got {tuple(targets.shape)}"
        )
    log_probs, labels, input_lengths, target_lengths, _ = _validated(
        ctx, log_probs, targets, input_lengths, target_lengths, blank, keep_padding=True
    )
    result_dtype = log_probs.dtype
    work_dtype = compute_dtype(xp, result_dtype)
    with ctx.quiet_floating_point():
        log_likelihood, alpha = _ctc_forward(
            ctx,
            xp.astype(log_probs, work_dtype, copy=False),
            labels,
            input_lengths,
            target_lengths,
            blank,
            log_epsilon=float(log_epsilon),
            collect=True,
        )
        return (
            xp.astype(-log_likelihood, result_dtype, copy=False),
            xp.astype(alpha, result_dtype, copy=False),
        )
