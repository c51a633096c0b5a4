"""Scenario discovery: PRIM (Friedman & Fisher 1999, with Bryant & Lempert's 2010
coverage/density view and quasi-p-values, as in EMA Workbench) and a CART
alternative (scikit-learn).

    X = allied5g.experiments(ds); y = allied5g.outcomes(ds, "banned_by(DEU, 2022Q4)")
    res = allied5g.prim(X, y, threshold=0.5)    # cases of interest: y >= 0.5
    res.plot_tradeoff(); res.select(12); print(res); res.plot_box()
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pandas as pd
from scipy.stats import binom

from .io import numeric_frame


def _binary(y, threshold, threshold_type: str, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y has shape {y.shape}; X has {n} rows")
    if threshold is None:
        if y.dtype.kind == "b":
            return y.astype(bool)
        u = np.unique(y[~pd.isna(y)])
        if not set(u.tolist()) <= {0, 1}:
            raise ValueError("y is not binary: give threshold= (cases of interest: y >= threshold)")
        return y.astype(bool)
    y = y.astype(float)
    if threshold_type == "above":
        return y >= threshold
    if threshold_type == "below":
        return y <= threshold
    raise ValueError("threshold_type must be 'above' or 'below'")


def _in_box(Xv: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return ((Xv >= lo) & (Xv <= hi)).all(axis=1)


class PrimResult:
    """The peeling (and pasting) trajectory of one PRIM run.

    - ``peeling_trajectory``: DataFrame, one row per box: coverage (share of all cases
      of interest that fall in the box), density (share of the box's points that are
      cases of interest), mass (share of all points in the box), n, res_dim (number of
      restricted inputs), phase (start, peel or paste);
    - ``box_lims``: one DataFrame per box (index: input; columns lo, hi);
    - ``selected``: the box that :meth:`inspect`, :meth:`plot_box` and ``print`` show
      (the last one unless changed with :meth:`select`).
    """

    def __init__(self, X: pd.DataFrame, y: np.ndarray, lims: list, rows: list):
        self.X, self.y = X, y
        self._lims = lims
        self.peeling_trajectory = pd.DataFrame(rows)
        self.peeling_trajectory.index.name = "box"
        self.box_lims = [pd.DataFrame({"lo": lo, "hi": hi}, index=X.columns) for lo, hi in lims]
        self.selected = len(lims) - 1
        self._lo0, self._hi0 = lims[0]

    # -- choosing a box
    def select(self, i: int) -> "PrimResult":
        """Make box ``i`` of the trajectory the selected one; returns self.

        ``i`` is an integer (negative counts from the end). ``None`` (what :meth:`best`
        returns when no box reaches the density asked for) raises ValueError naming
        the densest box there is."""
        n = len(self._lims)
        if i is None:
            t = self.peeling_trajectory
            j = int(t.density.idxmax())
            raise ValueError(
                f"select(None): no box given (best(min_density=...) returns None when no box "
                f"reaches that density); the densest box is {j}, density {t.density[j]:.3f}, "
                f"coverage {t.coverage[j]:.3f}: ask for a lower min_density or select a box "
                f"by number")
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"select: box must be an integer, not {type(i).__name__}")
        i = int(i)
        i = i + n if i < 0 else i
        if not 0 <= i < n:
            raise IndexError(f"box {i} is not in 0..{n - 1}")
        self.selected = i
        return self

    def best(self, min_density: float) -> int:
        """Index of the box with the highest coverage among those with density >=
        ``min_density`` (None when no box reaches it: :meth:`select` refuses None and
        names the densest box; ``peeling_trajectory.density.max()`` is the highest
        density there is)."""
        t = self.peeling_trajectory
        ok = t[t.density >= min_density]
        return None if ok.empty else int(ok.coverage.idxmax())

    def drop_restriction(self, name: str, i: Optional[int] = None) -> "PrimResult":
        """Append to the trajectory a copy of box ``i`` (default: the selected one) with
        input ``name`` unrestricted (e.g. one with a large quasi-p-value), select it and
        return self."""
        cols = list(self.X.columns)
        if name not in cols:
            raise KeyError(f"{name!r} is not an input")
        lo, hi = (a.copy() for a in self._lims[self.selected if i is None else i])
        j = cols.index(name)
        lo[j], hi[j] = self._lo0[j], self._hi0[j]
        Xv = self.X.to_numpy(dtype=float)
        inb = _in_box(Xv, lo, hi)
        total = self.y.sum()
        self._lims.append((lo, hi))
        self.box_lims.append(pd.DataFrame({"lo": lo, "hi": hi}, index=self.X.columns))
        row = {"coverage": self.y[inb].sum() / total, "density": self.y[inb].mean(),
               "mass": inb.mean(), "n": int(inb.sum()),
               "res_dim": int(((lo > self._lo0) | (hi < self._hi0)).sum()), "phase": "drop"}
        self.peeling_trajectory.loc[len(self.peeling_trajectory)] = row
        self.selected = len(self._lims) - 1
        return self

    # -- reading a box
    def restricted(self, i: Optional[int] = None) -> list:
        """The inputs box ``i`` (default: the selected one) restricts."""
        lo, hi = self._lims[self.selected if i is None else i]
        return [c for c, a, b, a0, b0 in zip(self.X.columns, lo, hi, self._lo0, self._hi0)
                if a > a0 or b < b0]

    def inspect(self, i: Optional[int] = None) -> pd.DataFrame:
        """Box ``i`` (default: the selected one): one row per restricted input with its
        limits and a quasi-p-value per restricted side (Bryant & Lempert 2010, as EMA
        Workbench): with that one limit removed, the box's density is p_j; qp is the
        binomial probability of seeing at least the box's count of cases of interest
        among its n points if the density were p_j. Small qp: the restriction matters.
        The box's coverage, density and mass are in ``.attrs``."""
        i = self.selected if i is None else (i + len(self._lims) if i < 0 else i)
        lo, hi = self._lims[i]
        Xv = self.X.to_numpy(dtype=float)
        inb = _in_box(Xv, lo, hi)
        H, T = int(self.y[inb].sum()), int(inb.sum())
        rows = {}
        for j, c in enumerate(self.X.columns):
            r = {"lo": lo[j], "hi": hi[j], "qp_lo": np.nan, "qp_hi": np.nan}
            for side, restricted in (("lo", lo[j] > self._lo0[j]), ("hi", hi[j] < self._hi0[j])):
                if not restricted:
                    continue
                lo2, hi2 = lo.copy(), hi.copy()
                if side == "lo":
                    lo2[j] = self._lo0[j]
                else:
                    hi2[j] = self._hi0[j]
                inb2 = _in_box(Xv, lo2, hi2)
                p = self.y[inb2].mean()
                r["qp_" + side] = float(binom.sf(H - 1, T, p)) if T else np.nan
            if not (np.isnan(r["qp_lo"]) and np.isnan(r["qp_hi"])):
                rows[c] = r
        out = pd.DataFrame.from_dict(rows, orient="index", columns=["lo", "hi", "qp_lo", "qp_hi"])
        out.index.name = "restricted"
        t = self.peeling_trajectory.loc[i]
        out.attrs.update(box=i, coverage=float(t.coverage), density=float(t.density),
                         mass=float(t.mass), n=int(t.n))
        return out

    def __str__(self) -> str:
        b = self.inspect()
        a = b.attrs
        head = (f"PRIM box {a['box']} of {len(self._lims) - 1}: coverage {a['coverage']:.3f}, "
                f"density {a['density']:.3f}, mass {a['mass']:.3f} ({a['n']} points)")
        return head + ("\n" + b.to_string(float_format=lambda v: f"{v:.4g}") if len(b) else
                       "\n(no input restricted)")

    __repr__ = __str__

    # -- plots
    def plot_tradeoff(self, ax=None, annotate: bool = True):
        """The coverage/density trade-off: one dot per box of the trajectory, coloured by
        the number of restricted inputs; the selected box circled. Returns the Figure."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5, 4))
        else:
            fig = ax.figure
        t = self.peeling_trajectory
        sc = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=18)
        fig.colorbar(sc, ax=ax, label="restricted inputs")
        s = t.loc[self.selected]
        ax.scatter([s.coverage], [s.density], s=120, facecolors="none", edgecolors="red")
        if annotate:
            for i, r in t.iloc[::max(1, len(t) // 10)].iterrows():
                ax.annotate(str(i), (r.coverage, r.density), fontsize=7, xytext=(2, 2),
                            textcoords="offset points")
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_xlim(0, 1.05)
        ax.set_ylim(0, 1.05)
        ax.set_title("PRIM peeling trajectory")
        fig.tight_layout()
        return fig

    def plot_box(self, i: Optional[int] = None, ax=None):
        """Limits of box ``i`` (default: the selected one) on each restricted input,
        scaled to the input's range in the design, labelled with the values and
        quasi-p-values. Returns the Figure."""
        import matplotlib.pyplot as plt

        b = self.inspect(i)
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 0.6 + 0.5 * max(len(b), 1)))
        else:
            fig = ax.figure
        cols = list(self.X.columns)
        for row, (name, r) in enumerate(b.iterrows()):
            j = cols.index(name)
            span = self._hi0[j] - self._lo0[j] or 1.0
            a, z = (r.lo - self._lo0[j]) / span, (r.hi - self._lo0[j]) / span
            ax.plot([0, 1], [row, row], color="0.85", lw=6, solid_capstyle="butt")
            ax.plot([a, z], [row, row], color="C0", lw=6, solid_capstyle="butt")
            ax.text(a, row + 0.25, f"{r.lo:.3g}", ha="center", fontsize=7)
            ax.text(z, row + 0.25, f"{r.hi:.3g}", ha="center", fontsize=7)
            qp = ", ".join(f"{v:.2g}" for v in (r.qp_lo, r.qp_hi) if not np.isnan(v))
            ax.text(1.02, row, f"qp {qp}", va="center", fontsize=7)
        ax.set_yticks(range(len(b)), list(b.index))
        ax.set_ylim(-0.7, len(b) - 0.3)
        ax.set_xlim(-0.02, 1.25)
        ax.set_xticks([0, 0.5, 1])
        ax.set_xlabel("share of the input's range")
        a = b.attrs
        ax.set_title(f"box {a['box']}: coverage {a['coverage']:.2f}, density {a['density']:.2f}")
        fig.tight_layout()
        return fig


def _objective(kind: str, mean_old: float, n_old: int, mean_new: float, n_new: int) -> float:
    gain = mean_new - mean_old
    if kind == "original":           # Friedman & Fisher: density gain per point removed
        return gain / (n_old - n_new)
    if kind == "lenient1":           # gain per share of the box removed
        return gain / (1 - n_new / n_old)
    if kind == "lenient2":           # gain weighted by the share kept
        return gain * n_new / n_old
    raise ValueError("objective must be 'lenient1', 'lenient2' or 'original'")


def prim(X, y, threshold: Optional[float] = None, threshold_type: str = "above",
         alpha: float = 0.05, paste_alpha: float = 0.05, mass_min: float = 0.05,
         objective: str = "lenient1", paste: bool = True) -> PrimResult:
    """Patient rule induction (PRIM) for scenario discovery.

    ``X``: the experiments (DataFrame, numeric columns; e.g. :func:`allied5g.experiments`).
    ``y``: cases of interest, boolean or 0/1, or any outcome with ``threshold`` (cases
    of interest: ``y >= threshold``, or ``<=`` with ``threshold_type="below"``).

    Peeling: starting from the box holding every point, each step tries, for every input,
    cutting off the ``alpha`` share of the box's points with the lowest or the highest
    values, and keeps the cut with the best ``objective`` (``lenient1``, EMA's default:
    density gain per share of the box removed; ``original``: per point removed;
    ``lenient2``: gain times share kept); it stops when no cut raises the density or
    the box would hold less than ``mass_min`` of all points. Pasting (``paste=True``)
    then widens single limits again, each time by about ``paste_alpha`` of the box's
    points, while that raises the density. Every box on the way is recorded: the
    coverage/density trade-off from which an analyst picks (:meth:`PrimResult.select`).
    Returns a :class:`PrimResult`.
    """
    X = numeric_frame(X)   # a strategy enters as its codes: a box limit on it is a range of codes
    Xv = X.to_numpy(dtype=float)
    if np.isnan(Xv).any():
        raise ValueError("X has missing values")
    n, k = Xv.shape
    yb = _binary(y, threshold, threshold_type, n).astype(float)
    total = yb.sum()
    if total == 0:
        raise ValueError("no case of interest: every y is below the threshold")
    if not 0 < alpha < 0.5 or not 0 < paste_alpha < 0.5:
        raise ValueError("alpha and paste_alpha must be in (0, 0.5)")
    _objective(objective, 0, 2, 0, 1)

    lo, hi = Xv.min(axis=0), Xv.max(axis=0)
    lims, rows = [], []
    lo0, hi0 = lo.copy(), hi.copy()

    def record(lo, hi, phase):
        inb = _in_box(Xv, lo, hi)
        m = int(inb.sum())
        lims.append((lo.copy(), hi.copy()))
        rows.append({"coverage": yb[inb].sum() / total, "density": yb[inb].mean(),
                     "mass": m / n, "n": m,
                     "res_dim": int(((lo > lo0) | (hi < hi0)).sum()), "phase": phase})

    record(lo, hi, "start")
    inb = _in_box(Xv, lo, hi)
    while True:
        idx = np.flatnonzero(inb)
        m_old, d_old = idx.size, yb[idx].mean()
        best = None
        for j in range(k):
            xj = Xv[idx, j]
            for side in ("lo", "hi"):
                if side == "lo":
                    cut = np.quantile(xj, alpha, method="lower")
                    keep = xj > cut if cut == xj.min() else xj >= cut
                else:
                    cut = np.quantile(xj, 1 - alpha, method="higher")
                    keep = xj < cut if cut == xj.max() else xj <= cut
                m_new = int(keep.sum())
                if m_new == 0 or m_new == m_old or m_new < mass_min * n:
                    continue
                d_new = yb[idx[keep]].mean()
                obj = _objective(objective, d_old, m_old, d_new, m_new)
                if best is None or obj > best[0]:
                    best = (obj, j, side, xj[keep].min() if side == "lo" else xj[keep].max(),
                            d_new)
        if best is None or best[4] <= d_old:
            break
        _, j, side, v, _ = best
        if side == "lo":
            lo[j] = v
        else:
            hi[j] = v
        inb = _in_box(Xv, lo, hi)
        record(lo, hi, "peel")

    while paste:
        d_old, m_old = yb[inb].mean(), int(inb.sum())
        want = max(1, int(math.ceil(paste_alpha * m_old)))
        best = None
        for j in range(k):
            for side in ("lo", "hi"):
                if (side == "lo" and lo[j] <= lo0[j]) or (side == "hi" and hi[j] >= hi0[j]):
                    continue
                others_lo, others_hi = lo.copy(), hi.copy()
                others_lo[j], others_hi[j] = lo0[j], hi0[j]
                near = _in_box(Xv, others_lo, others_hi) & ~inb
                xj = Xv[near, j]
                xj = np.sort(xj[xj < lo[j]])[::-1] if side == "lo" else np.sort(xj[xj > hi[j]])
                if xj.size == 0:
                    continue
                v = xj[min(want, xj.size) - 1]
                lo2, hi2 = lo.copy(), hi.copy()
                if side == "lo":
                    lo2[j] = v
                else:
                    hi2[j] = v
                inb2 = _in_box(Xv, lo2, hi2)
                d_new = yb[inb2].mean()
                if d_new > d_old and (best is None or d_new > best[0]):
                    best = (d_new, lo2, hi2, inb2)
        if best is None:
            break
        _, lo, hi, inb = best
        record(lo, hi, "paste")
    return PrimResult(X, yb.astype(bool), lims, rows)


# CART


class CartResult:
    """A classification tree read as boxes: ``boxes`` is a DataFrame with one row per
    leaf (coverage, density, mass, n, predicted class) and ``box_lims(i)`` the limits
    of leaf ``i``; ``tree`` is the fitted scikit-learn DecisionTreeClassifier and
    ``str(result)`` its rules as text."""

    def __init__(self, X: pd.DataFrame, y: np.ndarray, tree):
        from sklearn.tree import export_text

        self.X, self.y, self.tree = X, y, tree
        self._text = export_text(tree, feature_names=[str(c) for c in X.columns])
        t = tree.tree_
        lo0 = X.min().to_numpy(dtype=float)
        hi0 = X.max().to_numpy(dtype=float)
        self._lims = {}

        def walk(node, lo, hi):
            if t.children_left[node] == -1:
                self._lims[node] = (lo, hi)
                return
            j, thr = t.feature[node], t.threshold[node]
            hl, lr = hi.copy(), lo.copy()
            hl[j] = min(hl[j], thr)             # left: x <= thr
            lr[j] = max(lr[j], np.nextafter(thr, np.inf))
            walk(t.children_left[node], lo, hl)
            walk(t.children_right[node], lr, hi)

        walk(0, lo0, hi0)
        leaf = tree.apply(X.to_numpy(dtype=float))
        total = y.sum()
        rows = []
        for node in self._lims:
            inl = leaf == node
            rows.append({"leaf": node, "coverage": y[inl].sum() / total if total else np.nan,
                         "density": y[inl].mean() if inl.any() else np.nan,
                         "mass": inl.mean(), "n": int(inl.sum()),
                         "predicts": bool(tree.predict(X.to_numpy(dtype=float)[inl][:1])[0])
                         if inl.any() else False})
        self.boxes = pd.DataFrame(rows).set_index("leaf").sort_values("density", ascending=False)
        self._lo0, self._hi0 = lo0, hi0

    def box_lims(self, leaf: int, restricted_only: bool = True) -> pd.DataFrame:
        """Limits of a leaf's box (index: input; columns lo, hi)."""
        lo, hi = self._lims[leaf]
        df = pd.DataFrame({"lo": lo, "hi": hi}, index=self.X.columns)
        if restricted_only:
            df = df[(lo > self._lo0) | (hi < self._hi0)]
        return df

    def __str__(self) -> str:
        return self._text + "\n" + self.boxes.to_string(float_format=lambda v: f"{v:.3f}")

    __repr__ = __str__


def cart(X, y, threshold: Optional[float] = None, threshold_type: str = "above",
         max_depth: int = 4, min_samples_leaf=0.05, seed: int = 0) -> CartResult:
    """Scenario discovery with a classification tree (scikit-learn CART), the
    alternative to :func:`prim`: each leaf is a box. ``y`` and ``threshold`` as for
    :func:`prim`; ``min_samples_leaf`` a count or a share of the points."""
    from sklearn.tree import DecisionTreeClassifier

    X = numeric_frame(X)   # a strategy enters as its codes: a box limit on it is a range of codes
    yb = _binary(y, threshold, threshold_type, len(X))
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=seed).fit(X.to_numpy(dtype=float), yb)
    return CartResult(X, yb, tree)
