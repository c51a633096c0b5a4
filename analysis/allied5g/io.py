"""Loading results files and turning them into tidy tables."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import pandas as pd
import xarray as xr

#: Policy codes in results files, in code order (0, 1, 2).
POLICIES = ("open", "restrict", "ban")


def _quarter_end(label: str) -> pd.Timestamp:
    return pd.Period(label.upper(), freq="Q").end_time.normalize()


def design_paths(ds: xr.Dataset) -> list[str]:
    """The swept or designed parameter paths, in scenario order."""
    paths = ds.attrs.get("design_paths", "")
    if paths:
        return paths.split()
    return [str(v) for v in ds.variables if ds[v].attrs.get("role") == "design"]


def load(path, engine: Optional[str] = None) -> xr.Dataset:
    """Open a results file lazily, ready for analysis.

    - ``time`` (step): a real datetime coordinate, the last day of each step's quarter
      (row t records the state at the end of quarter t);
    - design variables (one per swept or designed path) become ``point`` coordinates;
    - ``policy`` and ``final_policy`` keep their int8 codes (cheap, lazy) with
      ``attrs["categories"] = POLICIES``; :func:`to_dataframe` turns them into
      pandas categoricals.
    Nothing is read into memory until a value is used.
    """
    ds = xr.open_dataset(path, engine=engine)
    if "date" in ds:
        labels = [str(x) for x in ds["date"].values]
        ds = ds.assign_coords(time=("step", pd.DatetimeIndex([_quarter_end(x) for x in labels])))
        ds = ds.assign_coords(date=ds["date"])
    coords = [p for p in design_paths(ds) if p in ds.data_vars]
    if coords:
        ds = ds.set_coords(coords)
    for v in ("policy", "final_policy"):
        if v in ds:
            ds[v].attrs["categories"] = POLICIES
    if "nation_name" in ds:
        ds = ds.set_coords("nation_name")
    return ds


def decode_policy(da: xr.DataArray) -> xr.DataArray:
    """Policy codes as names ("open", "restrict", "ban"; "" for fill values), read into
    memory: select first on large files. xarray has no categorical dtype, so
    :func:`load` keeps the int8 codes lazy; :func:`to_dataframe` gives pandas
    Categoricals."""
    names = np.array(list(POLICIES) + [""], dtype=object)
    codes = np.asarray(da.values).astype(np.int64)
    codes = np.where((codes >= 0) & (codes < 3), codes, 3)
    return da.copy(data=names[codes])


def load_live(path) -> xr.Dataset:
    """Open a batch that is still running with ``allied5g run --live``.

    Reads ``PATH.partial`` through HDF5's single-writer/multiple-reader mode (h5py
    with ``swmr=True``, wrapped for xarray by the h5netcdf backend; the netcdf4
    engine cannot read a file being written). Replicates not yet run hold fill values
    (``final_policy`` -1, floats NaN); ``attrs["replicates_done"]`` counts those
    complete per point. Once the batch has finished, opens ``PATH`` itself.
    Call again to see more.
    """
    import os

    import h5netcdf

    partial = f"{path}.partial"
    if not os.path.exists(partial):
        return load(path)
    f = h5netcdf.File(partial, "r", swmr=True, libver="latest")
    ds = xr.open_dataset(xr.backends.H5NetCDFStore(f))
    done = (ds.final_policy.isel(nation=0) >= 0).sum("replicate")
    ds.attrs["replicates_done"] = [int(x) for x in done.values]
    return ds


def to_dataframe(ds: xr.Dataset, variables: Optional[Iterable[str] | str] = None,
                 **sel) -> pd.DataFrame:
    """A tidy table: one row per (point, replicate, step, nation[, option|quantile]).

    ``variables``: a name or list of names sharing dimensions (default: the
    per-replicate step arrays present, else ``policy_share``). Keyword arguments
    select before loading, e.g. ``to_dataframe(ds, "policy", nation="DEU", point=0)``.
    Policy codes become an ordered pandas Categorical; ``date`` and design values are
    carried as columns.
    """
    if variables is None:
        variables = [v for v in ("policy", "high_risk_share", "us_pressure") if v in ds]
        variables = variables or ["policy_share"]
    elif isinstance(variables, str):
        variables = [variables]
    sub = ds[list(variables)]
    if sel:
        sub = sub.sel(**sel)
    df = sub.to_dataframe().reset_index()
    for v in ("policy", "final_policy"):
        if v in df:
            df[v] = pd.Categorical.from_codes(df[v].astype(int), categories=list(POLICIES),
                                              ordered=True)
    if "option" in df:
        df["option"] = pd.Categorical(df["option"].astype(str), categories=list(POLICIES),
                                      ordered=True)
    return df


def design_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Inputs of every design point: a DataFrame indexed by point, one column per path."""
    paths = design_paths(ds)
    data = {p: np.asarray(ds[p].values) for p in paths}
    return pd.DataFrame(data, index=pd.Index(np.asarray(ds["point"].values), name="point"))
