"""Exact leave-one-out multinomial naive Bayes, batched over many training sets.

The engine behind :func:`analysis.method.convergence.distinctiveness`: each held-out firm is scored by
the model fitted on all other firms of its training set, in closed form (its counts are taken
out of its own class's totals), which equals scikit-learn's ``MultinomialNB`` under
``LeaveOneOut`` (tested) and runs thousands of subsamples at once.

Notation, as in scikit-learn and the formulas: ``X`` the document-term matrix (firms x terms),
``y`` the class (city) code of each firm, ``K`` the number of classes, ``alpha`` the additive
smoothing; ``B`` independent training sets are scored at once.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["loo_multinomial_nb", "balanced_accuracy"]

# Largest dense block (floats) the batched computations build at once (~24 MB).
BLOCK = 3_000_000


def _as_csr(X) -> sparse.csr_matrix:
    X = sparse.csr_matrix(X, dtype=float)
    X.sum_duplicates()
    X.sort_indices()
    return X


def _loo_nb_chunk(X, XT, lengths, y, K, lb, pi, pw, B, alpha):
    """Leave-one-out predictions for pairs (local batch ``lb``, row ``pi``, weight ``pw``)
    of ``B`` independent training sets; each set's model is fitted on its own pairs. ``XT`` is
    ``X`` transposed (CSR) and ``lengths`` its row sums, computed once by the caller.

    Multinomial NB with Laplace smoothing ``alpha`` and empirical priors: the score of
    class k for a held-out firm with counts x is
    ``log N_k/(N-w) + sum_j x_j log((T_kj + alpha) / (T_k + alpha V))`` where the totals of
    the firm's own class have the firm's counts (times its weight w) taken out.

    The sums over a firm's terms are one sparse product: each pair's counts placed in the
    columns of its own training set (term-major, ``term * B + set``), times the log totals laid
    out the same way.
    """
    n, V = X.shape
    P = len(pi)
    yc = y[pi]
    cls = lb * K + yc
    BK = B * K
    W = sparse.csc_matrix((pw, (pi, cls)), shape=(n, BK))
    T = (XT @ W).toarray()  # term totals, (V, B*K): column set * K + class
    tot = T.sum(axis=0)
    N = np.bincount(cls, weights=pw, minlength=BK)
    Ntot = N.reshape(B, K).sum(axis=1)
    starts = X.indptr[pi]
    counts = X.indptr[pi + 1] - starts  # stored terms per pair
    indptr = np.concatenate(([0], np.cumsum(counts)))
    pos = np.arange(indptr[-1]) + np.repeat(starts - indptr[:-1], counts)
    col, val = X.indices[pos], X.data[pos]
    L = lengths[pi]
    log_rest = np.log(Ntot[lb] - pw)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_own = T.ravel()[col * BK + np.repeat(cls, counts)]  # the own class's totals at the firm's terms
        pairs = sparse.csr_matrix((val, col * B + np.repeat(lb, counts), indptr), shape=(P, V * B))
        rows = lb[:, None] * K + np.arange(K)
        scores = pairs @ np.log(T + alpha).reshape(V * B, K) \
            - L[:, None] * np.log(tot[rows] + alpha * V) + np.log(N[rows]) - log_rest[:, None]
        # the held-out firm's own city: its counts (times its weight) leave the totals
        t_own -= np.repeat(pw, counts) * val
        np.maximum(t_own, 0.0, out=t_own)
        t_own += alpha
        np.log(t_own, out=t_own)
        t_own *= val
        s_own = np.zeros(P)
        some = counts > 0
        s_own[some] = np.add.reduceat(t_own, indptr[:-1][some])
        own = (
            s_own
            - L * np.log(np.maximum(tot[cls] - pw * L, 0.0) + alpha * V)
            + np.log(np.maximum(N[cls] - pw, 0.0))
            - log_rest
        )
        scores[np.arange(P), yc] = own
    scores = np.where(np.isnan(scores), -np.inf, scores)
    return np.argmax(scores, axis=1)


def _loo_nb_batch(X, y, K, pb, pi, pw, n_batch, alpha=1.0):
    """Predictions for all pairs (batch ``pb`` sorted ascending, row ``pi``, weight ``pw``)."""
    pred = np.empty(len(pi), dtype=np.int64)
    if len(pi) == 0:
        return pred
    V = X.shape[1]
    nnz_per_row = np.diff(X.indptr)
    pairs_per_batch = np.bincount(pb, minlength=n_batch)
    entries_per_batch = np.bincount(pb, weights=nnz_per_row[pi], minlength=n_batch)
    per_batch = max(K * V, 1) + 4 * entries_per_batch.mean() + pairs_per_batch.mean()
    step = max(1, int(BLOCK // per_batch))
    starts = np.searchsorted(pb, np.arange(0, n_batch + step, step))
    XT, lengths = X.T.tocsr(), np.asarray(X.sum(axis=1)).ravel()
    for i, b0 in enumerate(range(0, n_batch, step)):
        s, e = starts[i], starts[i + 1]
        if e > s:
            B = min(step, n_batch - b0)
            pred[s:e] = _loo_nb_chunk(X, XT, lengths, y, K, pb[s:e] - b0, pi[s:e], pw[s:e], B, alpha)
    return pred


def loo_multinomial_nb(X, y, *, alpha: float = 1.0, weights=None) -> np.ndarray:
    """Exact leave-one-out predictions of a multinomial naive Bayes classifier.

    ``X`` is a (sparse or dense) document-term count matrix, ``y`` the class of each row.
    Each row is predicted by the model fitted on all other rows (scikit-learn's
    ``MultinomialNB(alpha=alpha)`` with empirical class priors; equal to
    ``cross_val_predict(MultinomialNB(alpha), X, y, cv=LeaveOneOut())``).  With integer
    ``weights`` a row stands for that many identical copies, all held out together.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix
        Document-term counts (rows x terms).
    y : array_like
        The class of each row.
    alpha : float
        Additive (Laplace) smoothing.
    weights : array_like or None
        Copies each row stands for (None: one each); a row of weight 0 is neither fitted nor
        predicted.

    Returns
    -------
    numpy.ndarray
        The predicted class label of each row; with rows of weight 0, an object array holding
        None at those rows.
    """
    y = np.asarray(y)
    classes, yc = np.unique(y, return_inverse=True)
    X = _as_csr(X)
    n = X.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    keep = np.flatnonzero(w > 0)
    pred = _loo_nb_batch(X, yc, len(classes), np.zeros(len(keep), dtype=np.int64), keep, w[keep], 1, alpha)
    if len(keep) == n:
        return classes[pred]
    out = np.full(n, None, dtype=object)
    out[keep] = classes[pred]
    return out


def _balanced_accuracy_batch(pred, yc, pb, pw, K, n_batch):
    idx = pb * K + yc
    num = np.bincount(idx, weights=pw * (pred == yc), minlength=n_batch * K).reshape(n_batch, K)
    den = np.bincount(idx, weights=pw, minlength=n_batch * K).reshape(n_batch, K)
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = num / den
    present = den > 0
    out = np.full(n_batch, np.nan)
    has = present.any(axis=1)
    out[has] = np.nansum(np.where(present, rec, 0.0), axis=1)[has] / present.sum(axis=1)[has]
    return out


def balanced_accuracy(y_true, y_pred, weights=None) -> float:
    """Mean recall over the classes present in ``y_true`` (as scikit-learn's).

    Parameters
    ----------
    y_true, y_pred : array_like
        The true and the predicted class of each row.
    weights : array_like or None
        A weight per row (None: one each); a class is present when its weight is positive.

    Returns
    -------
    float
        The balanced accuracy; NaN when no class is present.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    classes, yc = np.unique(y_true, return_inverse=True)
    lookup = {c: i for i, c in enumerate(classes)}
    pc = np.array([lookup.get(p, -1) for p in y_pred])
    w = np.ones(len(yc)) if weights is None else np.asarray(weights, dtype=float)
    return float(_balanced_accuracy_batch(pc, yc, np.zeros(len(yc), dtype=np.int64), w, len(classes), 1)[0])


as_csr = _as_csr
