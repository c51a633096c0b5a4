"""Loading results files and turning them into tidy tables.

Results hold several *variable families*, each with its own dimensions (see
docs/results.md). Tables are built one family at a time: putting variables of
different dimensions in one table broadcasts them against each other (a 5,000-replicate
file becomes billions of rows), which is why :func:`to_dataframe` refuses to mix them.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import threading
import warnings
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import pandas as pd
import xarray as xr

#: Policy codes in results files, in code order (0, 1, 2).
POLICIES = ("open", "restrict", "ban")

#: Variable families: variables of one family share their dimensions and make one
#: tidy table (:func:`to_dataframe`, ``python3 -m allied5g export``).
FAMILIES = {
    # per replicate and step: one row per (point, replicate, step, nation)
    "steps": ("policy", "high_risk_share", "us_pressure", "intel_status", "china_retaliation",
              "us_target", "china_target"),
    # per replicate, end of run: one row per (point, replicate, nation)
    "finals": ("final_policy", "first_ban_step", "first_restrict_step", "cum_cost", "cum_risk",
               "cum_retaliation", "cum_downgrade"),
    # over replicates: one row per (point, step, nation); option and quantile as columns
    "aggregates": ("policy_share", "high_risk_share_mean", "high_risk_share_quantiles"),
    # the scenario's outcomes: one row per (point, replicate, outcome)
    "outcomes": ("outcomes",),
    # per design point: one row per point, one column per design path
    "design": ("failed_replicates",),
}

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

#: The HDF5 and netCDF libraries are not thread-safe: opening files in several threads
#: at once fails at random (a spurious "damaged" error) and prints HDF5's diagnostics.
#: load, load_live and run hold this lock while they open, read into memory or close.
HDF5_OPEN_LOCK = threading.RLock()
_quiet = threading.local()


def _quiet_hdf5() -> None:
    """Turn off HDF5's printing of its error stack in this thread. The netCDF library
    turns it off only in the thread that first used it; in other threads, every
    attribute it probes for and does not find printed a page of HDF5-DIAG lines."""
    if getattr(_quiet, "done", False):
        return
    _quiet.done = True
    try:
        from h5py import _errors
        _errors.silence_errors()
    except (ImportError, AttributeError):
        pass


class ResultsError(ValueError):
    """The file is not a readable allied5g results file (truncated, not HDF5, or an
    HDF5 file written by something else). The message names the file and the cause."""


class ResultsWarning(UserWarning):
    """The results file is readable but incomplete (a batch still running, stopped or
    killed): replicates not yet run hold fill values."""



def time_dim(ds) -> str:
    """The time axis of ds (a Dataset or DataArray): ``time`` after :func:`load` and
    in a file newer than 0.3.0 opened with plain xarray; ``step`` with
    ``load(..., time_index=False)`` or in an older file opened with plain xarray."""
    return "time" if "time" in ds.dims else "step"

_QUARTER = re.compile(r"^\s*(-?\d+)[Qq]([1-4])\s*$")


class DatesWarning(UserWarning):
    """The results file's dates lie outside what pandas' datetime64 holds (years
    1678-2261): ``time`` holds cftime dates (an xarray CFTimeIndex) instead."""


def _cftime_dates(ymd) -> Optional[np.ndarray]:
    """(year, month, day) triples as cftime proleptic Gregorian dates, or None when
    cftime is missing or cannot represent them."""
    try:
        import cftime
        return np.array([cftime.DatetimeProlepticGregorian(y, m, d, has_year_zero=True)
                         for y, m, d in ymd], dtype=object)
    except (ImportError, ValueError, TypeError):
        return None


def _quarter_ends(labels) -> tuple[Optional[np.ndarray], str]:
    """The last day of each quarter labelled 2019Q1..: datetime64 where pandas can
    hold them all, else cftime dates; (None, why) when neither can."""
    ymd = []
    for label in labels:
        m = _QUARTER.match(str(label))
        if not m:
            return None, f"step label {str(label)!r} is not a quarter"
        q = int(m.group(2))
        ymd.append((int(m.group(1)), 3 * q, 31 if q in (1, 4) else 30))
    try:
        return pd.DatetimeIndex([pd.Timestamp(y, m, d) for y, m, d in ymd]).values, ""
    except (ValueError, OverflowError):        # OutOfBoundsDatetime is a ValueError
        ends = _cftime_dates(ymd)
        return ends, "" if ends is not None else (
            "its dates lie outside pandas' datetime64 range and cftime (python3-cftime) "
            "cannot hold them or is not installed")


def _open(path, **kw) -> xr.Dataset:
    """xr.open_dataset without xarray's warning for dates beyond datetime64 (they are
    decoded with cftime; _prepare says so once, in our words)."""
    _quiet_hdf5()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unable to decode time axis")
        try:
            return xr.open_dataset(path, **kw)
        except (ValueError, OverflowError) as e:
            if "time" not in str(e) and "date" not in str(e):    # not a date problem
                raise
            # dates beyond datetime64 without cftime: keep the raw numbers
            return xr.open_dataset(path, decode_times=False, **kw)


def design_paths(ds: xr.Dataset) -> list[str]:
    """The swept or designed parameter paths, in scenario order."""
    paths = ds.attrs.get("design_paths", "")
    if paths:
        return str(paths).split()
    return [str(v) for v in ds.variables if ds[v].attrs.get("role") == "design"]


def _text(values) -> np.ndarray:
    """Strings as str, whatever the engine returned (bytes under h5py/SWMR)."""
    return np.array([v.decode("utf-8") if isinstance(v, bytes) else str(v)
                     for v in np.asarray(values).ravel()], dtype=object).reshape(np.shape(values))


def _partial_writer(path) -> Optional[int]:
    """The PID of the run writing path, when path is a run's OUT.partial and the run
    holding its lock (OUT.partial.lock) is alive."""
    if not str(path).endswith(".partial"):
        return None
    try:
        fd = os.open(f"{path}.lock", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            pid = int(os.read(fd, 32).split()[0])
        finally:
            os.close(fd)
        os.kill(pid, 0)
    except PermissionError:
        return pid
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid > 0 else None


_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def _check_file(path) -> None:
    """A regular file that starts as HDF5 does, looked at without blocking (a FIFO is
    refused by its kind, never opened)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        writer = _partial_writer(f"{path}.partial")
        busy = f" (a run in progress, process {writer}, is writing {path}.partial)" \
            if writer else ""
        raise FileNotFoundError(f"{path}: no such file{busy}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise ResultsError(f"{path}: is {kind}, not an allied5g results file")
    with open(path, "rb") as f:
        head = f.read(8)
    if head != _HDF5_SIGNATURE:
        what = "an empty file" if not head else "not an HDF5 file"
        raise ResultsError(f"{path}: {what}, so not an allied5g results file "
                           "(results files are written by 'allied5g run -o OUT.h5')")


def _time_axis(ds: xr.Dataset, path) -> xr.Dataset:
    """``time`` as dates: the file's CF variable (the dimension after 0.3.0; a coordinate
    on ``step`` before), decoded by xarray (cftime dates if far), or, when it could
    not be decoded, rebuilt from the ``date`` labels."""
    tdim = "time" if "time" in ds.dims else "step"
    for v in ("step", "date"):
        if v in ds.variables and v not in ds.coords:
            ds = ds.set_coords(v)
    if "time" in ds.variables and (np.issubdtype(ds["time"].dtype, np.datetime64)
                                   or ds["time"].dtype == object):
        ds = ds.set_coords("time")       # written by the C side (CF time; cftime if far)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unable to decode time axis")
            ds["time"].variable.load()
    elif "date" in ds.coords:
        if "time" in ds.variables:                 # undecoded: days since 1970
            ds = ds.drop_vars("time")
        ends, why = _quarter_ends(ds["date"].values)
        if ends is not None:
            ds = ds.assign_coords(time=(tdim, ends))
        else:
            if tdim == "time":
                ds = ds.swap_dims(time="step")
            warnings.warn(f"{path}: no time axis ({why}): the data keep 'step' as their "
                          "dimension, with 'date' labels", DatesWarning, stacklevel=4)
    if "time" in ds.coords and ds["time"].dtype == object:
        t = ds["time"].values
        warnings.warn(f"{path}: dates {t[0].year:04d}-{t[-1].year:04d} lie outside pandas' "
                      "datetime64 range (years 1678-2261): time holds cftime dates (an "
                      "xarray CFTimeIndex; ds.sel(time='2300') works, pandas date "
                      "arithmetic does not)", DatesWarning, stacklevel=4)
    return ds


def _design_coords(ds: xr.Dataset) -> xr.Dataset:
    """Design variables as ``point`` coordinates named by their scenario paths
    (``us.escalation``; the file names them ``us_escalation``, with attribute
    ``path``), read into memory; a categorical input (a strategy) as its choices'
    names, with ``attrs["categories"]`` (files of 0.3.0 and earlier held their codes)."""
    rename = {}
    for v in list(ds.variables):
        a = ds[v].attrs
        if a.get("role") == "design" and a.get("path") and str(a["path"]) != v:
            rename[v] = str(a["path"])
    if rename:
        ds = ds.rename_vars(rename)
        for v in ds.variables.values():      # the file's names, gone now
            v.encoding.pop("coordinates", None)
    paths = [p for p in design_paths(ds) if p in ds.variables]
    if paths:
        ds = ds.set_coords([p for p in paths if p not in ds.coords])
    for p in paths:
        da = ds[p]
        vals, cats = _design_values(da)
        if cats is None and da.dtype.kind not in "OSU":
            ds[p].variable.load()
            continue
        attrs = {k: v for k, v in da.attrs.items() if k not in ("flag_meanings", "flag_values")}
        if cats:
            attrs["categories"] = " ".join(cats)
        ds = ds.assign_coords({p: (da.dims, vals, attrs)})
    if "bloc_member" in ds.variables:
        ds["bloc_member"].variable.load()
    return ds


def _prepare(ds: xr.Dataset, path, *, warn: bool = True, time_index: bool = True) -> xr.Dataset:
    """What load and load_live share: text coordinates as str and in memory, a real
    ``time`` index, design values as coordinates, policy categories."""
    closer = getattr(ds, "_close", None)      # ds.close() on the result closes the file
    kept = "outcomes" if str(ds.attrs.get("store", "")) == "outcomes" else "policy_share"
    missing = [v for v in (kept, "nation") if v not in ds.variables]
    if missing or "software_version" not in ds.attrs:
        ds.close()
        raise ResultsError(
            f"{path}: an HDF5 file, but not an allied5g results file (it has no "
            f"{', '.join(missing) or 'software_version attribute'})")
    if warn and str(ds.attrs.get("complete", "yes")) != "yes":
        warnings.warn(f"{path}: incomplete results file (attribute complete = "
                      f"{ds.attrs.get('complete')!s}): the batch did not finish; replicates "
                      "not yet run hold fill values (final_policy -1, floats NaN)",
                      ResultsWarning, stacklevel=3)
    # Small text variables: into memory as str. Lazy string variables cannot be
    # indexed with a list (netcdf4: "strides must all be 1 for string variables").
    for v in ("nation", "option", "bloc", "nation_name", "date"):
        if v in ds.variables and ds[v].dtype.kind in "OSU":
            ds = ds.assign_coords({v: (ds[v].dims, _text(ds[v].values), ds[v].attrs)})
    ds = _time_axis(ds, path)
    ds = _design_coords(ds)
    if time_index and "time" in ds.coords and ds["time"].dims == ("step",):
        # time becomes the dimension (step stays, as a coordinate on it): an index on a
        # second coordinate of step would break arithmetic between variables in the
        # xarray of Debian 12 ("conflicting indexes").
        ds = ds.swap_dims(step="time")
    elif not time_index and "time" in ds.dims:
        ds = ds.swap_dims(time="step")
    for v in ("policy", "final_policy"):
        if v in ds:
            ds[v].attrs["categories"] = POLICIES
    if closer is not None:
        ds.set_close(closer)
    return ds


def load(path, engine: Optional[str] = None, time_index: bool = True) -> xr.Dataset:
    """Open a results file lazily, ready for analysis.

    - ``time``: the last day of each step's quarter (row t records the state at the end
      of quarter t), read from the file's CF ``time`` variable, or built from ``date``
      for files that have none. It is the dimension in place of ``step`` (which stays,
      as a coordinate on ``time``): ``ds.sel(time="2020")`` selects 2020's quarters,
      ``ds.isel(time=-1)`` the last, and ``.plot()`` puts dates on the x axis.
      ``time_index=False`` keeps ``step`` as the dimension (``time`` a coordinate);
    - design variables (one per swept or designed path) become ``point`` coordinates;
    - ``nation_name``, ``date`` and the other small coordinates are read into memory as
      ``str``; everything else stays lazy until used;
    - ``policy`` and ``final_policy`` keep their int8 codes (cheap, lazy) with
      ``attrs["categories"] = POLICIES``; :func:`to_dataframe` turns them into
      pandas categoricals.

    Raises :class:`ResultsError` for a file that is not an allied5g results file
    (truncated, not HDF5, written by other software); warns with
    :class:`ResultsWarning` when the batch that wrote it did not finish.
    """
    _check_file(path)
    writer = _partial_writer(path)
    if writer:
        raise ResultsError(f"{path} is being written by process {writer} (a run in progress); "
                           "wait for it to finish, or follow it with allied5g.load_live")
    with HDF5_OPEN_LOCK:
        try:
            ds = _open(path, engine=engine)
        except (OSError, ValueError, RuntimeError) as e:
            size = os.path.getsize(path)
            why = e.strerror if isinstance(e, OSError) and e.strerror else e
            raise ResultsError(f"{path}: damaged or truncated HDF5 file ({size} bytes; the "
                               f"HDF5 library cannot read it: {why})") from e
        return _prepare(ds, path, time_index=time_index)


def decode_policy(da: xr.DataArray) -> xr.DataArray:
    """Policy codes as names ("open", "restrict", "ban"; "" for fill values), read into
    memory: select first on large files. xarray has no categorical dtype, so
    :func:`load` keeps the int8 codes lazy; :func:`to_dataframe` gives pandas
    Categoricals."""
    names = np.array(list(POLICIES) + [""], dtype=object)
    codes = np.asarray(da.values).astype(np.int64)
    codes = np.where((codes >= 0) & (codes < 3), codes, 3)
    return da.copy(data=names[codes])


def _replicates_done(ds: xr.Dataset) -> list[int]:
    done = (ds.final_policy.isel(nation=0) >= 0).sum("replicate")
    return [int(x) for x in np.atleast_1d(done.values)]


def load_live(path) -> xr.Dataset:
    """Open a batch that is still running with ``allied5g run --live``.

    Reads ``PATH.partial`` through HDF5's single-writer/multiple-reader mode (h5py
    with ``swmr=True``, wrapped for xarray by the h5netcdf backend; the netcdf4
    engine cannot read a file being written). Replicates not yet run hold fill values
    (``final_policy`` -1, floats NaN); ``attrs["replicates_done"]`` counts those
    complete per point. Once the batch has finished, opens ``PATH`` itself (with
    ``replicates_done`` too). Coordinates and ``time`` are as with :func:`load`.
    Call again to see more.
    """
    import h5netcdf

    partial = f"{path}.partial"
    if not os.path.exists(partial):
        ds = load(path)
    else:
        _check_file(partial)
        with HDF5_OPEN_LOCK:
            try:
                f = h5netcdf.File(partial, "r", swmr=True, libver="latest")
                ds = _open(xr.backends.H5NetCDFStore(f))
            except (OSError, ValueError, RuntimeError) as e:
                raise ResultsError(f"{partial}: cannot be read while running ({e}); was the "
                                   "batch started with --live?") from e
            ds = _prepare(ds, partial, warn=False)
    ds.attrs["replicates_done"] = _replicates_done(ds)
    return ds


def families(ds: xr.Dataset) -> dict[str, list[str]]:
    """The variable families present in ``ds``: name -> variables (see FAMILIES)."""
    out = {}
    for name, members in FAMILIES.items():
        have = [v for v in members if v in ds.data_vars or v in ds.coords]
        if name == "design":
            have = design_paths(ds) + have
        if have:
            out[name] = have
    return out


def _categorical(df: pd.DataFrame, ds: Optional[xr.Dataset] = None) -> pd.DataFrame:
    """Policies and options as ordered Categoricals; with ds, a categorical design
    input (a strategy) as the Categorical design_frame gives too."""
    for p in design_paths(ds) if ds is not None else ():
        cats = str(ds[p].attrs.get("categories", "")).split() if p in ds.variables else []
        if cats and p in df and df[p].dtype == object:
            df[p] = pd.Categorical(df[p].astype(str), categories=cats)
    for v in ("policy", "final_policy"):
        if v in df:
            codes = df[v].to_numpy().astype(np.int64)
            codes = np.where((codes >= 0) & (codes < 3), codes, -1)   # fill values -> NaN
            df[v] = pd.Categorical.from_codes(codes, categories=list(POLICIES), ordered=True)
    if "option" in df:
        df["option"] = pd.Categorical(df["option"].astype(str), categories=list(POLICIES),
                                      ordered=True)
    return df


def _aggregates_frame(sub: xr.Dataset) -> pd.DataFrame:
    """policy_share (option), mean and quantiles as columns of one (point, step, nation)
    table: share_open, share_restrict, share_ban, high_risk_share_mean, q05, q50, q95."""
    cols = {}
    base = None
    if "high_risk_share_mean" in sub:
        base = sub["high_risk_share_mean"]
    if "policy_share" in sub:
        for o in POLICIES:
            cols[f"share_{o}"] = sub["policy_share"].sel(option=o, drop=True)
        base = base if base is not None else cols["share_open"]
    if "high_risk_share_mean" in sub:
        cols["high_risk_share_mean"] = sub["high_risk_share_mean"]
    if "high_risk_share_quantiles" in sub:
        q = sub["high_risk_share_quantiles"]
        for level in q["quantile"].values:
            cols[f"high_risk_share_q{round(float(level) * 100):02d}"] = q.sel(quantile=level,
                                                                             drop=True)
    frame = sub.drop_vars(list(sub.data_vars)).drop_dims(
        [d for d in ("option", "quantile") if d in sub.dims])
    for name, da in cols.items():
        frame[name] = da
    return frame.to_dataframe().reset_index()


def to_dataframe(ds: xr.Dataset, variables: Optional[Iterable[str] | str] = None,
                 se: bool = False, level: float = 0.9, interval: str = "wilson",
                 **sel) -> pd.DataFrame:
    """A tidy table of ONE variable family (variables sharing their dimensions).

    ``variables``: a family name (``"steps"``, ``"finals"``, ``"aggregates"``,
    ``"design"``; see :data:`FAMILIES`), a variable name, or a list of names with the
    same dimensions. Default: the per-replicate step arrays (``"steps"``) when stored,
    else ``"aggregates"``. Mixing families raises ``ValueError``: a table of variables
    with different dimensions repeats each value across the others' dimensions (on a
    5,000-replicate file that does not fit in memory) -- make one table per family.

    Keyword arguments select before loading, e.g.
    ``to_dataframe(ds, "policy", nation=["GBR", "DEU"], point=0)`` or ``time="2020"``.
    Policy codes become an ordered pandas Categorical (fill values NaN); ``time``,
    ``date``, ``nation_name`` and design values are carried as columns.

    ``se=True`` (aggregates only) adds each share's Monte Carlo standard error and
    ``level`` interval beside it (``share_ban_se``, ``share_ban_lo``, ``share_ban_hi``;
    ``interval``: ``"wilson"`` or ``"normal"``, see :mod:`allied5g.uncertainty`).
    """
    fams = families(ds)
    family = None
    if variables is None:
        family = "steps" if "steps" in fams else "aggregates"
        variables = fams.get(family, [])
    elif isinstance(variables, str):
        if variables in FAMILIES:
            family = variables
            if family not in fams:
                raise ValueError(f"this results file has no '{family}' variables "
                                 f"(it has: {', '.join(fams)})")
            variables = fams[family]
        else:
            variables = [variables]
    variables = list(variables)
    unknown = [v for v in variables if v not in ds.variables]
    if unknown:
        raise KeyError(f"no variable {unknown} in this results file; families: "
                       + "; ".join(f"{k}: {', '.join(v)}" for k, v in fams.items()))
    if family is None and set(variables) <= set(FAMILIES["aggregates"]) and len(variables) > 1:
        family = "aggregates"
    if family is None:
        dims = {v: ds[v].dims for v in variables}
        if len(set(dims.values())) > 1:
            raise ValueError(
                "to_dataframe takes one variable family at a time (variables with the same "
                "dimensions): " + ", ".join(f"{v} {d}" for v, d in dims.items())
                + ". Make one table per family: " + "; ".join(
                    f"{k}: {', '.join(v)}" for k, v in fams.items()))
    if family == "design":
        frame = design_frame(ds)
        if "failed_replicates" in ds:
            frame["failed_replicates"] = np.asarray(ds["failed_replicates"].values)
        if sel:
            frame = frame.loc[np.atleast_1d(ds["point"].sel(**sel).values)]
        return frame.reset_index()
    sub = ds[variables]
    sub = sub.drop_vars([c for c in sub.coords if c not in sub.dims
                         and not set(sub[c].dims) <= set(sub.dims)])
    if sel:
        sub = sub.sel(**sel)
    if family == "aggregates":
        frame = _aggregates_frame(sub)
        if se:
            from .uncertainty import add_share_errors
            frame = add_share_errors(frame, ds, level, interval)
        return _categorical(frame, ds)
    if se:
        raise ValueError("se=True applies to the aggregates (shares of replicates) only")
    return _categorical(sub.to_dataframe().reset_index(), ds)


def design_var(ds: xr.Dataset, path: str) -> xr.DataArray:
    """The design variable of ``path``, by its path (as :func:`load` names it) or, in a
    file opened with plain xarray, by its attribute ``path`` (``us_escalation``)."""
    if path in ds.variables:
        return ds[path]
    for v in ds.variables:
        if str(ds[v].attrs.get("path", "")) == path and ds[v].attrs.get("role") == "design":
            return ds[v]
    raise KeyError(f"{path!r} is not a design input of this file")


def _design_values(da: xr.DataArray) -> tuple:
    """A design variable's values and, for a categorical input (a strategy), its
    choices in order (else None): names as text, whether the file holds them so
    (attribute ``categories``) or, as 0.3.0 and earlier did, as codes with CF flags."""
    a = da.attrs
    if da.dtype.kind in "OSU":
        cats = str(a.get("categories", "")).split()
        return _text(da.values), cats or None
    if "flag_meanings" in a:
        names = str(a["flag_meanings"]).split()
        codes = np.asarray(da.values).astype(int)
        return np.array([names[c] for c in codes], dtype=object), names
    return np.asarray(da.values), None


def design_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Inputs of every design point: a DataFrame indexed by point, one column per path.
    A categorical input (a strategy) is a pandas Categorical of its choices' names, in
    the order the scenario reference lists them (:func:`numeric_frame` gives codes)."""
    data = {}
    for p in design_paths(ds):
        da = design_var(ds, p)
        vals, cats = _design_values(da)
        text = cats is not None or da.dtype.kind in "OSU"
        data[p] = pd.Categorical(vals, categories=cats or sorted(set(vals))) if text else vals
    return pd.DataFrame(data, index=pd.Index(np.asarray(ds["point"].values), name="point"))


def numeric_frame(X) -> pd.DataFrame:
    """X with every categorical column as its codes (0, 1, .. in category order), for
    methods that need numbers (PRIM, CART, extra trees, Sobol, Morris)."""
    if not isinstance(X, pd.DataFrame):
        a = np.asarray(X, dtype=float)
        return pd.DataFrame(a, columns=[f"x{i}" for i in range(a.shape[1])])
    out = X.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].cat.codes.astype(float)
        elif out[c].dtype == object:
            raise ValueError(f"column {c!r} holds text; make it a pandas Categorical")
    return out


# The files export_csv may write, by family.
EXPORT_FILES = ("steps.csv", "finals.csv", "outcomes.csv", "aggregates.csv", "design.csv",
                "nations.csv")


class ExportError(ValueError):
    """export_csv refused its arguments before writing anything (an output that is a
    link or the input, files it would replace without ``force``, too little free
    space): bad input, exit status 2 from ``allied5g export``."""


def _os_text(e: OSError) -> str:
    """An OSError in words: 'PATH: reason' (no '[Errno N]')."""
    why = (e.strerror or str(e)).lower() if e.strerror else str(e)
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        why += " (the disk is full)"
    return f"{e.filename}: {why}" if e.filename else why


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Columns in a fixed order; time as an ISO date; policies as names."""
    lead = [c for c in ("point", "replicate", "step", "date", "time", "nation",
                        "nation_name") if c in df]
    df = df[lead + [c for c in df if c not in lead]].copy()
    if "time" in df:
        t = df["time"]
        if t.dtype == object:              # cftime dates (beyond datetime64's years)
            df["time"] = [f"{x.year:04d}-{x.month:02d}-{x.day:02d}" for x in t]
        else:
            df["time"] = pd.to_datetime(t).dt.strftime("%Y-%m-%d")
    for v in ("policy", "final_policy"):
        if v in df:
            df[v] = df[v].astype(object).where(df[v].notna(), "")
    return df


def _csv_parts(ds: xr.Dataset, name: str, chunk: int):
    """The text of name.csv, in parts (a block of replicates at a time for the large
    families)."""
    if name in ("steps", "finals", "outcomes"):
        first = True
        for p in range(ds.sizes["point"]):
            for r0 in range(0, ds.sizes["replicate"], chunk):
                df = to_dataframe(ds, name, point=[p], replicate=slice(r0, r0 + chunk - 1))
                yield _tidy(df).to_csv(index=False, header=first, float_format="%.7g")
                first = False
    elif name == "aggregates":
        yield _tidy(to_dataframe(ds, "aggregates")).to_csv(index=False, float_format="%.7g")
    elif name == "design":
        yield to_dataframe(ds, "design").to_csv(index=False, float_format="%.17g")
    else:
        nations = pd.DataFrame({"nation": [str(x) for x in ds.nation.values]})
        if "nation_name" in ds.coords:
            nations["nation_name"] = [str(x) for x in ds["nation_name"].values]
        if "bloc_member" in ds:
            m = ds["bloc_member"].values.astype(bool)
            blocs = [str(b) for b in ds["bloc"].values]
            nations["blocs"] = [" ".join(b for b, yes in zip(blocs, row) if yes) for row in m]
        yield nations.to_csv(index=False)


def _export_names(ds: xr.Dataset) -> list[str]:
    fams = families(ds)
    return [n for n in ("steps", "finals", "outcomes", "aggregates", "design") if n in fams] \
        + ["nations"]


def export_bytes(ds: xr.Dataset) -> int:
    """An estimate of what :func:`export_csv` writes, in bytes (a quarter above the
    size of the first replicate's rows times the number of replicates)."""
    total = 1 << 16
    npt = ds.sizes.get("point", 1)
    for name in _export_names(ds):
        if name in ("steps", "finals", "outcomes"):
            df = to_dataframe(ds, name, point=[0], replicate=[0])
            per = len(_tidy(df).to_csv(index=False, header=False, float_format="%.7g"))
            total += per * npt * ds.sizes["replicate"]
        elif name == "aggregates":
            df = to_dataframe(ds, "aggregates", point=[0])
            total += len(_tidy(df).to_csv(index=False, float_format="%.7g")) * npt
    return int(total * 1.25)


def _check_outputs(path, out: Path, force: bool) -> list[Path]:
    """Refuse what export must not replace; returns the export files DIR has now."""
    try:
        src = os.stat(path)
    except OSError as e:
        raise ExportError(f"cannot read {_os_text(e)}") from e
    if out.is_symlink() and not out.exists():
        raise ExportError(f"{out} is a dangling symbolic link, not a directory")
    if not out.exists():
        up = out.absolute().parent
        while not up.exists() and not up.is_symlink() and up != up.parent:
            up = up.parent
        if not up.is_dir():
            raise ExportError(f"cannot create {out}: {up} is not a directory")
        return []
    if not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory")
    there = []
    for n in EXPORT_FILES:
        f = out / n
        try:
            st = os.lstat(f)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise ExportError(f"cannot inspect {_os_text(e)}") from e
        if (st.st_dev, st.st_ino) == (src.st_dev, src.st_ino) or \
                (stat.S_ISLNK(st.st_mode) and os.path.exists(f) and os.path.samefile(f, path)):
            raise ExportError(f"{f} is the results file being exported; choose another DIR")
        if stat.S_ISLNK(st.st_mode):
            raise ExportError(f"{f} is a symbolic link; export does not replace links "
                              "(remove it, or choose another DIR)")
        if not stat.S_ISREG(st.st_mode):
            raise ExportError(f"{f} exists and is not a regular file")
        if st.st_nlink > 1:
            raise ExportError(f"{f} has other hard links ({st.st_nlink} names); export does "
                              "not replace it (remove it, or choose another DIR)")
        there.append(f)
    if there and not force:
        raise ExportError(f"{out} already has {', '.join(p.name for p in there)}; use --force "
                          "to replace them")
    return there


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def export_csv(path, outdir, chunk: int = 250, *, force: bool = True,
               ignore_space: bool = False) -> list[Path]:
    """Write the results file ``path`` as tidy CSV files in ``outdir``, one per variable
    family present (steps.csv, finals.csv, aggregates.csv, design.csv) plus nations.csv
    (codes, names, blocs). Policies are written as names; ``date`` (2019Q1) and
    ``time`` (ISO date) label each step. Large files are written a block of replicates
    at a time. Returns the paths written.

    The files are written into a temporary directory beside ``outdir`` (inside it,
    when it exists) and renamed into place once all are complete: a failure, a full
    disk or a damaged input leaves ``outdir`` as it was. Replacing (``force``, the
    default here; the command asks for --force) removes every export file ``outdir``
    had first, so old and new files never mix. Refused with :class:`ExportError`: an
    export file in ``outdir`` that is a symbolic link, has other hard links or is the
    input; an estimate (:func:`export_bytes`) above the free space unless
    ``ignore_space``. A damaged input raises :class:`ResultsError`."""
    if not str(outdir):
        raise ExportError("the CSV directory is an empty name; name a directory (--csv DIR)")
    if int(chunk) < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    out = Path(outdir)
    _check_outputs(path, out, force)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatesWarning)   # ISO dates are written either way
        ds = load(path)
    try:
        return _export(ds, path, out, chunk, force, ignore_space)
    finally:
        ds.close()


def _damaged(path, e: Exception) -> ResultsError:
    return ResultsError(f"{path}: damaged: its data do not read back ({type(e).__name__}: {e}); "
                        "nothing was exported")


def _remove_stale(parent: Path, prefix: str) -> None:
    """Temporary directories of exports killed with SIGKILL (their PID is in the name
    and no longer runs): removed."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for n in names:
        if not n.startswith(prefix):
            continue
        pid = n[len(prefix):].split("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue                        # still running
        except ProcessLookupError:
            pass
        except OSError:
            continue
        p = parent / n
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)


class _DirLock:
    """flock on a directory: one export at a time replaces files in it."""

    def __init__(self, d: Path):
        self.fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)

    def __enter__(self):
        import fcntl
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def _export(ds, path, out: Path, chunk: int, force: bool, ignore_space: bool):
    exists = out.exists()
    parent = out if exists else out.absolute().parent
    try:
        need = export_bytes(ds)
    except (OSError, RuntimeError, ValueError, KeyError, IndexError) as e:
        raise _damaged(path, e) from e
    made = []                              # DIR's missing parents: removed on failure
    up = parent
    while not up.exists() and not up.is_symlink():
        made.append(up)
        up = up.parent
    parent.mkdir(parents=True, exist_ok=True)
    try:
        return _write_all(ds, path, out, chunk, force, ignore_space, need, exists, parent)
    except BaseException:
        for d in made:                     # deepest first; only if still empty
            try:
                d.rmdir()
            except OSError:
                break
        raise


def _write_all(ds, path, out: Path, chunk: int, force: bool, ignore_space: bool, need: int,
               exists: bool, parent: Path):
    free = shutil.disk_usage(parent).free
    if need > free:
        msg = (f"the CSV files may need up to {need / 2**20:.0f} MiB, but only "
               f"{free / 2**20:.0f} MiB are free in {parent}")
        if not ignore_space:
            raise ExportError(msg + "; free space, or export anyway with --ignore-space")
        warnings.warn(msg + " (--ignore-space)", ResultsWarning, stacklevel=3)
    prefix = ".allied5g-export-" if exists else f".{out.name}.allied5g-export-"
    _remove_stale(parent, prefix)
    import secrets
    # Named before it exists, so that a signal between mkdir and the assignment
    # cannot leave it behind (our PID in the name: no other process makes it).
    tmp = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(6)}"
    try:
        os.mkdir(tmp, 0o700)
        names = []
        for name in _export_names(ds):
            parts = _csv_parts(ds, name, chunk)
            with open(tmp / f"{name}.csv", "w", newline="") as f:
                while True:
                    try:
                        text = next(parts)
                    except StopIteration:
                        break
                    except (OSError, RuntimeError, ValueError, KeyError, IndexError) as e:
                        raise _damaged(path, e) from e
                    f.write(text)
                f.flush()
                os.fsync(f.fileno())
            names.append(f"{name}.csv")
        _fsync_dir(tmp)
        with _DirLock(parent):
            if exists:
                # again, under the lock: what another process did meanwhile counts
                for old in _check_outputs(path, out, force):
                    old.unlink()           # none of the old files stays beside new ones
                for n in names:
                    os.rename(tmp / n, out / n)
                tmp.rmdir()
                _fsync_dir(out)
            else:
                if out.exists() or out.is_symlink():
                    raise ExportError(f"{out} was created by another process during the "
                                      "export; nothing was written")
                umask = os.umask(0)
                os.umask(umask)
                tmp.chmod(0o777 & ~umask)          # as mkdir would have made it
                os.rename(tmp, out)
                _fsync_dir(out.absolute().parent)
        return [out / n for n in names]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
