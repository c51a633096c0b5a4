"""Sobol sensitivity indices from a ``design: {method: saltelli}`` run."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import norm

from .io import design_paths


def _indices(A, B, AB):
    var = np.var(np.concatenate([A, B]))
    if var == 0:
        zeros = np.zeros(AB.shape[1])
        return zeros, zeros
    s1 = np.mean(B[:, None] * (AB - A[:, None]), axis=0) / var      # Saltelli et al. 2010
    st = 0.5 * np.mean((A[:, None] - AB) ** 2, axis=0) / var         # Jansen 1999
    return s1, st


def sobol_indices(ds: xr.Dataset, y, num_resamples: int = 1000, conf_level: float = 0.95,
                  seed: int = 0) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of output ``y`` per design path.

    ``ds`` is a results file from a ``saltelli`` design with base sample N over k
    paths: N (k + 2) points ordered, per base row, A, AB_1 .. AB_k, B (SALib's order
    without second-order terms). ``y`` is a DataArray (or array) over ``point``, e.g.
    ``(ds.first_ban_step.sel(nation="GBR") >= 0).mean("replicate")``.

    Estimators: S1 from Saltelli et al. (2010), ST from Jansen (1999); ``*_conf``
    columns are half-widths of ``conf_level`` bootstrap intervals over base rows
    (normal approximation, as SALib reports). Returns a DataFrame indexed by path
    with columns S1, S1_conf, ST, ST_conf.
    """
    if ds.attrs.get("design_method") != "saltelli":
        raise ValueError("sobol_indices needs a results file from design: {method: saltelli}")
    paths = design_paths(ds)
    k, n = len(paths), int(ds.attrs["design_n"])
    if isinstance(y, xr.DataArray):
        extra = [d for d in y.dims if d != "point"]
        if extra:
            raise ValueError(f"y must vary over 'point' only; reduce {extra} first")
        y = y.values
    y = np.asarray(y, dtype=float)
    if y.shape != (n * (k + 2),):
        raise ValueError(f"y has shape {y.shape}; the design has {n * (k + 2)} points")
    Y = y.reshape(n, k + 2)
    A, B, AB = Y[:, 0], Y[:, -1], Y[:, 1:-1]
    s1, st = _indices(A, B, AB)
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, n, size=(num_resamples, n))
    bs1 = np.empty((num_resamples, k))
    bst = np.empty((num_resamples, k))
    for r, idx in enumerate(boot):
        bs1[r], bst[r] = _indices(A[idx], B[idx], AB[idx])
    z = norm.ppf(0.5 + conf_level / 2)
    return pd.DataFrame({"S1": s1, "S1_conf": z * bs1.std(axis=0, ddof=1),
                         "ST": st, "ST_conf": z * bst.std(axis=0, ddof=1)},
                        index=pd.Index(paths, name="path"))
