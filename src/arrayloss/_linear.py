"""linear_cross_entropy: cross entropy of a linear layer's logits, fused and chunked.

``linear_cross_entropy(x, W, t)`` is ``cross_entropy(x @ W.T + b, t)``, computed without
ever holding the (N, C) logits: the batch is cut into blocks of rows and the classes
(the vocabulary) into blocks of classes; each (rows x classes) block of logits is made
by one matmul, folded into a running (online) log-sum-exp per row, searched for the
row's target logit, and dropped. Only the standard namespace ``xp`` is used, so autodiff
(PyTorch's autograd, ``jax.grad``) differentiates the loop as written.

This module builds on the classification family's validation helpers (the one import
of another family module in arrayloss): linear_cross_entropy is *defined* as
cross_entropy of a linear layer, and must accept and refuse exactly what it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._classification import (
    _check_ignore_index,
    _check_indices_in_range,
    _check_label_smoothing,
    _check_weight,
    cross_entropy,
)
from ._dispatch import (
    ArrayContext,
    array_size,
    jax_auto_jit,
    namespace_of,
    plain_torch_linear_cross_entropy,
    stop_gradient,
)
from ._errors import ArrayLossTypeError, ArrayLossValueError
from ._numerics import compute_dtype
from ._reduction import (
    apply_reduction,
    sample_weight_kept,
    validate_empty,
    validate_reduction,
    zero_where_unweighted,
)
from ._validation import check_array, check_floating, check_integer, dtype_name

__all__ = ["linear_cross_entropy"]

#: Default block of classes (vocabulary entries) per matmul.
VOCAB_CHUNK = 8192
#: Default budget of one block of logits, in elements (4 Mi: 16 MiB in float32); the
#: default block of rows is this budget over the block of classes (512 rows at 8192).
BLOCK_ELEMENTS = 1 << 22


# --- options -------------------------------------------------------------------------------


def _chunk_option(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`options` {name} must be a positive int or None; got {value!r}")
    if value < 1:
        raise ArrayLossValueError(f"`options` {name} must be a positive int; got {value}")
    return value


def _chunk_sizes(options: object) -> tuple[int | None, int | None]:
    """(rows, classes) per block from ``options``; None: the default."""
    if options is None:
        return None, None
    if isinstance(options, Mapping):
        unknown = set(options) - {"batch_chunk_size", "vocab_chunk_size"}
        if unknown:
            raise ArrayLossValueError(
                "`options` takes the keys 'batch_chunk_size' and 'vocab_chunk_size'; "
                f"got {sorted(unknown)!r}"
            )
        return (
            _chunk_option("batch_chunk_size", options.get("batch_chunk_size")),
            _chunk_option("vocab_chunk_size", options.get("vocab_chunk_size")),
        )
    if type(options).__name__ == "LinearCrossEntropyOptions" and hasattr(
        options, "batch_chunk_size"
    ):
        # torch.nn.LinearCrossEntropyOptions: its block of rows; its other fields tune
        # PyTorch's own kernel (accumulation policy, retain_graph) and have no meaning here.
        return _chunk_option("batch_chunk_size", options.batch_chunk_size), None
    raise TypeError(
        "`options` must be None, a torch.nn.LinearCrossEntropyOptions or a mapping with "
        f"'batch_chunk_size' and/or 'vocab_chunk_size'; got {type(options).__name__}"
    )


# --- the kernel ----------------------------------------------------------------------------


def _block_terms(
    ctx: ArrayContext,
    x: Any,
    w2: Any,
    bias: Any,
    target: Any,
    class_weight: Any,
    n_classes: int,
    spatial: int,
    vocab_chunk: int,
    probabilities: bool,
    smoothing: bool,
    narrow: Any = None,
) -> tuple[Any, Any, Any, Any]:
    """For one block of rows ``x`` (nB, D): the log-sum-exp over the classes, the
    probability term and the smoothing term, each (nB, S), streaming over blocks of
    classes.

    ``w2`` is the weight as (C * S, D), class-major; ``bias`` (C, S) or None. The
    probability term is ``sum_c w_c t_c z_c`` (``target`` (nB, C, S), already smoothed
    and weighted; None for class indices, whose target logit is computed apart, by
    :func:`_target_logits`). The smoothing term is ``sum_c w_c z_c`` (None unless
    ``smoothing``). Last, the dtype the library's matmul returned (narrower than ``x``'s
    under ``torch.autocast``).

    Memory under autodiff: each block's exponentials are kept for the backward (one
    (nB, C, S) array in all); nothing here keeps ``z`` itself (a gather from ``z``
    would: PyTorch's ``gather`` saves its whole input for the backward).
    """
    xp = ctx.xp
    n_rows = int(x.shape[0])
    # Without spatial dimensions the blocks stay (nB, C): XLA's CPU code reduced the
    # (nB, C, 1) form over its middle axis about 4x slower (a log-sum-exp of 10,000 x
    # 1,000 under jax.jit: 158 ms against 39 ms), which made the auto-jitted loss 2x-3.5x
    # slower than its op-by-op eager run. The terms get their S = 1 axis back at the end.
    flat = spatial == 1
    matmul_dtype: Any = None
    x_ones = None
    if narrow is not None and bias is not None:
        x_ones = xp.concat([x, xp.ones((n_rows, 1), dtype=x.dtype, device=ctx.device)], axis=1)
    m: Any = None  # running maximum (a constant for autodiff), finite
    s: Any = None  # running sum of exp(z - m)
    picked: Any = None
    smooth: Any = None
    for c0 in range(0, n_classes, vocab_chunk):
        c1 = min(c0 + vocab_chunk, n_classes)
        wc = w2[c0 * spatial : c1 * spatial, :]
        fold_bias = bias is not None and x_ones is not None
        if fold_bias:
            # Under torch.autocast the bias goes into the narrow matmul, as PyTorch's
            # addmm (one rounding of x W + b, not two).
            b_col = xp.reshape(bias[c0:c1, :], (-1, 1))
            z = xp.matmul(x_ones, xp.permute_dims(xp.concat([wc, b_col], axis=1), (1, 0)))
        else:
            z = xp.matmul(x, xp.permute_dims(wc, (1, 0)))
        matmul_dtype = z.dtype
        if z.dtype != x.dtype:
            # The library computed the matmul narrower (torch.autocast runs linear in its
            # half dtype, as PyTorch's linear_cross_entropy there); the loss is float32.
            z = xp.astype(z, x.dtype)
        z = xp.reshape(z, (n_rows, c1 - c0) if flat else (n_rows, c1 - c0, spatial))
        if bias is not None and not fold_bias:
            z = z + xp.expand_dims(bias[c0:c1, 0] if flat else bias[c0:c1, :], axis=0)
        # Online log-sum-exp: rescale the running sum to the new maximum. The maximum is
        # a constant for autodiff (its derivative cancels exactly in m + log s).
        mc = xp.max(stop_gradient(xp, z), axis=1)
        m_new = mc if m is None else xp.maximum(m, mc)
        # A row whose maximum is not finite (all -inf, or +inf, NaN) is shifted by 0, so
        # that it gives -inf, inf or NaN as log_softmax does, not inf - inf in the shift.
        m_new = xp.where(xp.isfinite(m_new), m_new, xp.zeros_like(m_new))
        e = xp.sum(xp.exp(z - xp.expand_dims(m_new, axis=1)), axis=1)
        s = e if s is None else s * xp.exp(m - m_new) + e
        m = m_new
        if probabilities:
            term = xp.sum(z * (target[:, c0:c1, 0] if flat else target[:, c0:c1, :]), axis=1)
            picked = term if picked is None else picked + term
        if smoothing:
            cw_shape = (1, -1) if flat else (1, -1, 1)
            zw = z if class_weight is None else z * xp.reshape(class_weight[c0:c1], cw_shape)
            term = xp.sum(zw, axis=1)
            smooth = term if smooth is None else smooth + term
    lse = m + xp.log(s)
    if flat:
        lse, picked, smooth = (
            None if a is None else xp.expand_dims(a, axis=1) for a in (lse, picked, smooth)
        )
    return lse, picked, smooth, matmul_dtype


def _target_logits(
    ctx: ArrayContext,
    x: Any,
    w2: Any,
    bias: Any,
    safe: Any,
    n_classes: int,
    spatial: int,
    matmul_dtype: Any,
) -> Any:
    """``z[n, t[n, s], s] = x_n . W[t, s] + b[t, s]`` (nB, S) from the target's rows of
    the weight (a gather of nB x S rows of D), not from the blocks of logits.

    Where the blocks' matmul ran narrower (``matmul_dtype``, under ``torch.autocast``),
    the operands and the dot product are rounded through that dtype as the matmul's
    were, so that the target logit is the one the log-sum-exp saw.
    """
    xp = ctx.xp
    narrow = matmul_dtype is not None and matmul_dtype != x.dtype
    n_rows = int(x.shape[0])
    index = safe * spatial
    if spatial > 1:
        index = index + xp.arange(spatial, dtype=safe.dtype, device=ctx.device)
    flat = xp.reshape(index, (-1,))
    rows = xp.reshape(xp.take(w2, flat, axis=0), (n_rows, spatial, -1))
    if narrow:
        x = xp.astype(xp.astype(x, matmul_dtype), rows.dtype)
        rows = xp.astype(xp.astype(rows, matmul_dtype), x.dtype)
    picked = xp.sum(xp.expand_dims(x, axis=1) * rows, axis=2)
    if bias is not None:
        b = xp.take(xp.reshape(bias, (n_classes * spatial,)), flat, axis=0)
        if narrow:
            b = xp.astype(xp.astype(b, matmul_dtype), x.dtype)
        picked = picked + xp.reshape(b, (n_rows, spatial))
    if narrow:
        picked = xp.astype(xp.astype(picked, matmul_dtype), x.dtype)
    return picked


def _index_rows(
    ctx: ArrayContext,
    x: Any,
    w2: Any,
    bias: Any,
    target: Any,
    class_weight: Any,
    n_classes: int,
    spatial: int,
    vocab_chunk: int,
    ignore_index: int,
    eps: float,
    narrow: Any,
) -> tuple[Any, Any]:
    """(loss, normalizer) of one block of rows, class-index targets (nB, S)."""
    xp = ctx.xp
    counted = (target >= 0) & (target < n_classes) & (target != ignore_index)
    safe = xp.where(counted, target, xp.zeros_like(target))
    lse, _, smooth, matmul_dtype = _block_terms(
        ctx,
        x,
        w2,
        bias,
        None,
        class_weight,
        n_classes,
        spatial,
        vocab_chunk,
        False,
        eps > 0.0,
        narrow,
    )
    picked = _target_logits(ctx, x, w2, bias, safe, n_classes, spatial, matmul_dtype)
    zero = xp.zeros_like(lse)
    nll = lse - picked
    if class_weight is None:
        norm = xp.astype(counted, lse.dtype)
    else:
        wt = xp.reshape(xp.take(class_weight, xp.reshape(safe, (-1,)), axis=0), safe.shape)
        norm = xp.where(counted, wt, zero)
        nll = nll * wt
    loss = xp.where(counted, nll, zero)
    if eps > 0.0:
        total = float(n_classes) if class_weight is None else xp.sum(class_weight)
        smoothed = xp.where(target != ignore_index, lse * total - smooth, zero)
        loss = (1.0 - eps) * loss + (eps / n_classes) * smoothed
    return loss, norm


def _prob_rows(
    ctx: ArrayContext,
    x: Any,
    w2: Any,
    bias: Any,
    target: Any,
    class_weight: Any,
    n_classes: int,
    spatial: int,
    vocab_chunk: int,
    eps: float,
    narrow: Any,
) -> Any:
    """The loss of one block of rows, class-probability targets (nB, C, S)."""
    xp = ctx.xp
    if eps > 0.0:
        target = target * (1.0 - eps) + eps / n_classes
    if class_weight is not None:
        target = target * xp.reshape(class_weight, (1, -1, 1))
    lse, picked, _, _ = _block_terms(
        ctx, x, w2, bias, target, None, n_classes, spatial, vocab_chunk, True, False, narrow
    )
    # -sum_c w_c t_c (z_c - lse) = lse sum_c w_c t_c - sum_c w_c t_c z_c
    return lse * xp.sum(target, axis=1) - picked


# --- the public loss -----------------------------------------------------------------------


@jax_auto_jit
def linear_cross_entropy(
    input: Any,
    linear_weight: Any,
    target: Any,
    *,
    linear_bias: Any | None = None,
    weight: Any | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""Cross entropy of the logits ``input @ linear_weight.T + linear_bias``, without
    materializing them: fused and chunked over the batch and the classes.

    Mirrors :func:`torch.nn.functional.linear_cross_entropy` (PyTorch 2.13), whose
    definition is ``cross_entropy(linear(input, linear_weight, linear_bias), target)``.
    With logits :math:`z_{n,c} = x_n \cdot W_c + b_c`, for class indices :math:`y_n`:

    .. math::

        \ell_n = (1 - \varepsilon)\, w_{y_n} \left(\operatorname{lse}_n - z_{n, y_n}\right)
                 + \frac{\varepsilon}{C} \sum_c w_c \left(\operatorname{lse}_n - z_{n,c}\right),
        \qquad \operatorname{lse}_n = \log \sum_c e^{z_{n,c}}

    with every term exactly as :func:`arrayloss.cross_entropy` (ignored samples, the
    weighted 'mean', class probabilities, label smoothing).

    How it is computed: the rows are taken in blocks of ``batch_chunk_size`` and the
    classes in blocks of ``vocab_chunk_size``; each block of logits comes from one
    matmul, updates the rows' running maximum and rescaled sum of exponentials (an
    online log-sum-exp), gives up the target logits it holds (a gather) and is dropped.
    The forward pass holds one block of logits at a time: memory O(N D + C D +
    rows x classes), never O(N C). Autodiff (PyTorch's autograd, ``jax.grad``) records
    the loop as written and keeps each block's exponentials for the backward: the
    forward-and-backward peak is about one (N, C) array (measured on torch at N = 8192,
    C = 128,000, D = 256, float32: 65 MiB forward, 1.07x the logits' bytes forward and
    backward, against about 2x and 3x for the unfused ``cross_entropy(input @
    linear_weight.T)``; docs/performance.md, "linear_cross_entropy memory"). Nothing is
    recomputed. Under ``jax.jit`` XLA compiles the unrolled loop whole and may merge the
    blocks' matmuls: its forward peak was about one (N, C) array.

    Parameters
    ----------
    input : array of shape (D,) or (N, D), real floating
        The features (``in_features`` = D).
    linear_weight : array of shape (C, D) or (C, d1, ..., dK, D), real floating
        The linear layer's weight, of ``input``'s dtype; (C, d1, ..., dK, D) gives
        logits of shape (N, C, d1, ..., dK), a K-dimensional loss (batched input only).
    target : array of shape (), (N,) or (N, d1, ..., dK), integer; or of the logits' shape, floating
        Class indices in [0, C) (or ``ignore_index``), or class probabilities of the
        logits' shape ((C,), (N, C) or (N, C, d1, ..., dK)).
    linear_bias : array of shape (C,) or (C, d1, ..., dK), optional
        The linear layer's bias (``linear_weight``'s shape without D).
    weight : array of shape (C,), optional
        Rescaling weight per class.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    ignore_index : int, optional
        Class-index targets only; None means -100, as PyTorch. With class
        probabilities it must be None or negative.
    label_smoothing : float in [0, 1], default 0.0
    options : None, torch.nn.LinearCrossEntropyOptions or mapping, optional
        The block sizes. None: arrayloss's defaults (8192 classes per block, and rows
        such that a block holds 2**22 logits); unlike PyTorch, where None selects its
        unchunked reference path, arrayloss chunks (the values agree to rounding); only
        plain torch tensors whose logits fit in one block (N x C <= 2**22) take PyTorch's
        definition itself, a fast path (docs/performance.md).
        A ``torch.nn.LinearCrossEntropyOptions`` gives its ``batch_chunk_size``; its other
        fields tune PyTorch's own kernel and are ignored. A mapping may give
        ``batch_chunk_size`` (rows per block) and ``vocab_chunk_size`` (classes per
        block), positive ints, on any backend.
    empty : {'nan', 'zero'}, default 'nan'
        Keyword-only, arrayloss's own: what 'mean' over nothing gives (an empty
        batch, or sample weights summing to 0): NaN, as PyTorch, or 0 with 'zero'
        (its gradient 0 as well). See docs/sample-weight.md.
    sample_weight : array, bool, integer or real floating, optional
        Keyword-only, arrayloss's own: a weight per element of the
        ``reduction='none'`` output (one per row, or per row and position), to whose
        shape it must broadcast. 'none' gives the weighted loss, 'sum' the weighted sum,
        'mean' ``sum(s w[y] l) / sum(s w[y])`` over the kept targets (class indices) or
        ``sum(s l) / sum(s)`` (probabilities). See docs/sample-weight.md.

    Returns
    -------
    array
        Of ``input``'s library, device and dtype: the logits' shape without the class
        axis for 'none', 0-d otherwise.

    Raises
    ------
    IndexError
        On eager backends, a class index outside [0, C) other than ``ignore_index``.
    ValueError
        Shapes that do not fit (each error names the argument); ``label_smoothing``
        outside [0, 1]; a non-negative ``ignore_index`` with class probabilities; an
        unknown ``reduction``; a block size below 1.
    TypeError
        ``input`` or ``linear_weight`` not floating, or of two dtypes; ``target``
        neither integer nor floating; ``options`` of another type.

    Notes
    -----
    On JAX the loops are unrolled when traced (the auto-jit kernel, a user's ``jit``):
    compile time grows with the number of blocks. Under ``jax.grad`` and PyTorch's
    autograd, gradients of every order follow (PyTorch's chunked path is first-order
    only). float16 and bfloat16 are computed in float32 and rounded once.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> loss = arrayloss.linear_cross_entropy(x, w, np.array([0, 2]))
    >>> bool(np.isclose(loss, arrayloss.cross_entropy(x @ w.T, np.array([0, 2]))))
    True
    """
    if (
        options is None
        and weight is None
        and empty == "nan"
        and sample_weight is None
        and type(label_smoothing) is float
        and 0.0 <= label_smoothing <= 1.0
        and (ignore_index is None or type(ignore_index) is int)
    ):
        # Plain tensors whose logits fit in one block: PyTorch's own definition at once
        # (the dispatch layer's fast path says why). If ATen raises IndexError for a
        # class index, the full path below raises arrayloss's error.
        kernel = plain_torch_linear_cross_entropy(
            reduction, input, linear_weight, target, linear_bias, BLOCK_ELEMENTS
        )
        if kernel is not None:
            ignore = -100 if ignore_index is None else ignore_index
            try:
                return kernel(
                    input, linear_weight, linear_bias, target, reduction, ignore, label_smoothing
                )
            except IndexError:
                pass
    empty = validate_empty(empty)
    batch_chunk, vocab_chunk = _chunk_sizes(options)
    return _linear_cross_entropy(
        input,
        linear_weight,
        target,
        linear_bias,
        weight,
        reduction,
        ignore_index,
        label_smoothing,
        batch_chunk,
        vocab_chunk,
        sample_weight=sample_weight,
        empty=empty,
    )


@jax_auto_jit
def _linear_cross_entropy(
    input: Any,
    linear_weight: Any,
    target: Any,
    linear_bias: Any,
    weight: Any,
    reduction: str,
    ignore_index: int | None,
    label_smoothing: float,
    batch_chunk: int | None,
    vocab_chunk: int | None,
    sample_weight: Any | None = None,
    empty: str = "nan",
) -> Any:
    check_array("input", input)
    check_array("linear_weight", linear_weight)
    check_array("target", target)
    check_array("linear_bias", linear_bias, optional=True)
    check_array("weight", weight, optional=True)
    reduction = validate_reduction(reduction)
    eps = _check_label_smoothing(label_smoothing)
    if ignore_index is not None:
        _check_ignore_index(ignore_index)
    ctx = namespace_of(
        input=input,
        linear_weight=linear_weight,
        target=target,
        linear_bias=linear_bias,
        weight=weight,
        sample_weight=sample_weight,
    )
    input, linear_weight, target, linear_bias, weight = ctx.autocast(
        "linear_cross_entropy", input, linear_weight, target, linear_bias, weight
    )
    xp = ctx.xp
    check_floating(xp, "input", input)
    check_floating(xp, "linear_weight", linear_weight)
    if input.dtype != linear_weight.dtype:
        # PyTorch's linear: "expected m1 and m2 to have the same dtype".
        raise ArrayLossTypeError(
            f"`input` and `linear_weight` must have one dtype; got {dtype_name(input.dtype)} "
            f"and {dtype_name(linear_weight.dtype)}"
        )
    if input.ndim not in (1, 2):
        raise ArrayLossValueError(
            f"`input` must have shape (D,) or (N, D); got shape {tuple(input.shape)}"
        )
    features = int(input.shape[-1])
    if linear_weight.ndim < 2 or int(linear_weight.shape[-1]) != features:
        raise ArrayLossValueError(
            f"`linear_weight` must have shape (C, D) or (C, d1, ..., dK, D) with D = {features} "
            f"(`input`'s last axis); got shape {tuple(linear_weight.shape)}"
        )
    unbatched = input.ndim == 1
    out_features = tuple(int(d) for d in linear_weight.shape[1:-1])
    if unbatched and out_features:
        raise ArrayLossValueError(
            "a K-dimensional `linear_weight` (C, d1, ..., dK, D) needs a batched `input` "
            f"(N, D); got `input` of shape {tuple(input.shape)}"
        )
    n_classes = int(linear_weight.shape[0])
    spatial = 1
    for d in out_features:
        spatial *= d
    n_rows = 1 if unbatched else int(input.shape[0])
    logits_shape = (n_classes,) if unbatched else (n_rows, n_classes, *out_features)
    if linear_bias is not None:
        check_floating(xp, "linear_bias", linear_bias)
        if tuple(linear_bias.shape) != (n_classes, *out_features):
            raise ArrayLossValueError(
                f"`linear_bias` must have shape {(n_classes, *out_features)} (`linear_weight`'s "
                f"shape without D); got {tuple(linear_bias.shape)}"
            )
    _check_weight(xp, weight, n_classes)
    probabilities = tuple(target.shape) == logits_shape
    index_shape = () if unbatched else (n_rows, *out_features)
    if probabilities:
        if not xp.isdtype(target.dtype, "real floating"):
            raise ArrayLossTypeError(
                f"`target` of class probabilities (the logits' shape {logits_shape}) must have "
                f"a real floating-point dtype; got {dtype_name(target.dtype)}"
            )
        if ignore_index is not None and ignore_index >= 0:
            raise ArrayLossValueError(
                "`ignore_index` is not supported with class probabilities (a floating "
                f"`target` of the logits' shape): expected None or a negative value; "
                f"got {ignore_index}"
            )
    else:
        check_integer(xp, "target", target, "of class indices")
        if tuple(target.shape) != index_shape:
            raise ArrayLossValueError(
                f"`target` must have shape {index_shape} (class indices) or {logits_shape} "
                f"(class probabilities); got {tuple(target.shape)}"
            )
        if xp.isdtype(target.dtype, "unsigned integer"):
            target = xp.astype(target, ctx.index_dtype, copy=False)
    ignore = -100 if ignore_index is None else ignore_index
    if not probabilities:
        _check_indices_in_range(ctx, target, n_classes, ignore)
    kept = sample_weight_kept(ctx, sample_weight, index_shape)

    result_dtype = xp.result_type(input, target) if probabilities else input.dtype
    work = compute_dtype(xp, result_dtype)
    if n_rows == 0 or n_classes == 0 or array_size(target) == 0:
        # Nothing to chunk: the reference definition on empty logits (its NaN 'mean').
        logits = xp.matmul(
            xp.reshape(input, (n_rows, features)),
            xp.permute_dims(xp.reshape(linear_weight, (-1, features)), (1, 0)),
        )
        logits = xp.reshape(logits, logits_shape)
        if linear_bias is not None:
            logits = logits + (linear_bias if unbatched else xp.expand_dims(linear_bias, axis=0))
        return cross_entropy(
            logits,
            target,
            weight,
            ignore_index=ignore,
            reduction=reduction,
            label_smoothing=eps,
            empty=empty,
            sample_weight=sample_weight,
        )

    with ctx.quiet_floating_point():
        x = xp.astype(xp.reshape(input, (n_rows, features)), work, copy=False)
        if kept is not None:
            # Rows whose every weight is 0 are computed at x = 0: a NaN or inf there
            # reaches neither the loss nor its gradient.
            row_kept = xp.reshape(kept, (n_rows, spatial))
            row_kept = xp.any(row_kept, axis=1) if spatial > 1 else row_kept[:, 0]
            x = zero_where_unweighted(ctx, x, row_kept)
        w2 = xp.astype(xp.reshape(linear_weight, (n_classes * spatial, features)), work, copy=False)
        b = None
        if linear_bias is not None:
            b = xp.astype(xp.reshape(linear_bias, (n_classes, spatial)), work, copy=False)
        cw = None if weight is None else xp.astype(weight, work, copy=False)
        if probabilities:
            t = xp.astype(xp.reshape(target, (n_rows, n_classes, spatial)), work, copy=False)
        else:
            t = xp.reshape(target, (n_rows, spatial))
        # The dtype the library's matmul computes in, when narrower than the loss's: under
        # torch.autocast, linear runs in its half dtype (as in PyTorch's definition), the
        # rest in float32. A 1 x 1 product tells it.
        probe = xp.matmul(x[:1, :1], xp.permute_dims(w2[:1, :1], (1, 0)))
        narrow = probe.dtype if probe.dtype != x.dtype else None
        v_chunk = min(vocab_chunk or VOCAB_CHUNK, n_classes)
        r_chunk = batch_chunk or max(1, BLOCK_ELEMENTS // (v_chunk * spatial))
        losses, norms = [], []
        for r0 in range(0, n_rows, r_chunk):
            r1 = min(r0 + r_chunk, n_rows)
            if probabilities:
                losses.append(
                    _prob_rows(
                        ctx,
                        x[r0:r1, :],
                        w2,
                        b,
                        t[r0:r1, ...],
                        cw,
                        n_classes,
                        spatial,
                        v_chunk,
                        eps,
                        narrow,
                    )
                )
            else:
                loss, norm = _index_rows(
                    ctx,
                    x[r0:r1, :],
                    w2,
                    b,
                    t[r0:r1, :],
                    cw,
                    n_classes,
                    spatial,
                    v_chunk,
                    ignore,
                    eps,
                    narrow,
                )
                losses.append(loss)
                norms.append(norm)
        loss = losses[0] if len(losses) == 1 else xp.concat(losses, axis=0)
        loss = xp.reshape(loss, index_shape)
        if probabilities:
            return apply_reduction(
                ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
            )
        # 'mean' of class indices: PyTorch's weighted mean, sum(w[y] l) / sum(w[y]) over
        # the kept targets (times the sample weights, if any).
        norm = norms[0] if len(norms) == 1 else xp.concat(norms, axis=0)
        norm = xp.reshape(norm, index_shape)
        return apply_reduction(
            ctx,
            loss,
            reduction,
            dtype=result_dtype,
            empty=empty,
            sample_weight=sample_weight,
            count=norm,
        )
