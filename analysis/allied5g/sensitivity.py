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


def _second_order(A, B, AB, BA):
    """S2[j, l] for j < l (Saltelli 2002 as SALib): V_jl / V - S_j - S_l, with
    V_jl = mean(BA_j * AB_l - A * B). Arrays may carry a leading resample axis."""
    var = np.var(np.concatenate([A, B], axis=-1), axis=-1)
    flat = var == 0
    var = np.where(flat, 1.0, var)          # a constant output: every index 0
    k = AB.shape[-1]
    s1 = np.mean(B[..., None] * (AB - A[..., None]), axis=-2) / var[..., None]
    out = np.full(var.shape + (k, k), np.nan)
    for j in range(k):
        for m in range(j + 1, k):
            vjm = np.mean(BA[..., j] * AB[..., m] - A * B, axis=-1) / var
            out[..., j, m] = vjm - s1[..., j] - s1[..., m]
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    out[flat] = np.where(upper, 0.0, np.nan)
    return out


def _truthy(v) -> bool:
    if isinstance(v, (bytes, str)):
        return v.strip().lower() in ("1", "true", "yes")
    try:
        return bool(int(v))
    except (TypeError, ValueError):
        return False


def sobol_indices(ds: xr.Dataset, y, num_resamples: int = 1000, conf_level: float = 0.95,
                  seed: int = 0, second_order: bool = False) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of output ``y`` per design path,
    and with ``second_order=True`` the second-order indices S2.

    ``ds`` is a results file from a ``saltelli`` design with base sample N over k
    paths: N (k + 2) points ordered, per base row, A, AB_1 .. AB_k, B (SALib's order
    without second-order terms), or with ``second_order: true`` in the design (root
    attribute ``saltelli_second_order`` = 1) N (2k + 2) points ordered A, AB_1 ..
    AB_k, BA_1 .. BA_k, B. ``y`` is a DataArray (or array) over ``point``, e.g.
    ``(ds.first_ban_step.sel(nation="GBR") >= 0).mean("replicate")``.

    Estimators: S1 from Saltelli et al. (2010), ST from Jansen (1999), S2 from
    Saltelli (2002) as SALib computes them; ``*_conf`` are half-widths of ``conf_level``
    bootstrap intervals over base rows (normal approximation, as SALib reports).
    Returns a DataFrame indexed by path with columns S1, S1_conf, ST, ST_conf; with
    ``second_order=True`` its ``attrs["S2"]`` and ``attrs["S2_conf"]`` are k x k
    DataFrames (rows and columns: paths; S2[j][l] filled for j before l, NaN elsewhere).
    """
    if ds.attrs.get("design_method") != "saltelli":
        raise ValueError("sobol_indices needs a results file from design: {method: saltelli}")
    paths = design_paths(ds)
    k = len(paths)
    has_s2 = _truthy(ds.attrs.get("saltelli_second_order", 0))
    if second_order and not has_s2:
        raise ValueError("second_order=True needs a design with second_order: true "
                         "(root attribute saltelli_second_order = 1)")
    width = 2 * k + 2 if has_s2 else k + 2
    if isinstance(y, xr.DataArray):
        extra = [d for d in y.dims if d != "point"]
        if extra:
            raise ValueError(f"y must vary over 'point' only; reduce {extra} first")
        y = y.values
    y = np.asarray(y, dtype=float)
    n = int(ds.attrs["design_n"]) if "design_n" in ds.attrs else y.size // width
    if y.shape != (n * width,):
        raise ValueError(f"y has shape {y.shape}; the design has {n * width} points")
    Y = y.reshape(n, width)
    A, B, AB = Y[:, 0], Y[:, -1], Y[:, 1:k + 1]
    s1, st = _indices(A, B, AB)
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, n, size=(num_resamples, n))
    bs1 = np.empty((num_resamples, k))
    bst = np.empty((num_resamples, k))
    for r, idx in enumerate(boot):
        bs1[r], bst[r] = _indices(A[idx], B[idx], AB[idx])
    z = norm.ppf(0.5 + conf_level / 2)
    out = pd.DataFrame({"S1": s1, "S1_conf": z * bs1.std(axis=0, ddof=1),
                        "ST": st, "ST_conf": z * bst.std(axis=0, ddof=1)},
                       index=pd.Index(paths, name="path"))
    if second_order:
        BA = Y[:, k + 1:2 * k + 1]
        s2 = _second_order(A, B, AB, BA)
        bs2 = np.concatenate([_second_order(A[i], B[i], AB[i], BA[i])
                              for i in np.array_split(boot, max(1, num_resamples // 100))])
        conf = np.full((k, k), np.nan)
        ju, lu = np.triu_indices(k, 1)
        if num_resamples > 1:
            conf[ju, lu] = z * bs2[:, ju, lu].std(axis=0, ddof=1)
        idx = pd.Index(paths, name="path")
        out.attrs["S2"] = pd.DataFrame(s2, index=idx, columns=paths)
        out.attrs["S2_conf"] = pd.DataFrame(conf, index=idx, columns=paths)
    return out
