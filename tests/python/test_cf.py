"""The results file follows the CF-1.8 rules it relies on (Debian has no CF checker,
so this test checks them one by one on the raw HDF5 and through netCDF-C), and plain
xarray reads it as a user expects: time as the dimension, design inputs as point
coordinates under valid names, categorical inputs by name."""
import re

import h5py
import numpy as np
import pytest
import xarray as xr

from conftest import run

WORLD = """steps: 8
replicates: 12
seed: 5
nations:
  - {code: GBR, name: United Kingdom, blocs: [nato], high_risk_share: 0.35}
  - {code: DEU, name: Germany, blocs: [nato, eu], high_risk_share: 0.55}
  - {code: USA, blocs: [nato], policy: ban, review_rate: 0}
us: {budget: 0.3}
"""
SWEEP = ("sweep: {us.strategy: [schedule, pivotal], us.escalation: [0, 0.05], "
         "nations.*.mitigation: [0.2, 0.6]}\n")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")          # CF 1.8, section 2.3
CALENDARS = {"standard", "gregorian", "proleptic_gregorian", "noleap", "365_day",
             "all_leap", "366_day", "360_day", "julian", "none"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cf")
    (d / "s.yaml").write_text(WORLD + SWEEP)
    out = {}
    for store in ("full", "summary"):
        out[store] = d / f"{store}.h5"
        run("run", d / "s.yaml", "-o", out[store], "--store", store, "--quiet")
    return out


def _is_scale(d) -> bool:
    return _attr(d, "CLASS") == "DIMENSION_SCALE"


def _attr(obj, name):
    v = obj.attrs.get(name)
    return v.decode() if isinstance(v, bytes) else v


@pytest.mark.parametrize("store", ["full", "summary"])
def test_cf_rules(files, store):
    with h5py.File(files[store], "r") as f:
        assert _attr(f, "Conventions") == "CF-1.8"
        for a in ("title", "source"):
            assert _attr(f, a)
        for a in f.attrs:
            assert NAME.match(a), f"root attribute {a!r}"
        dims = {n for n, d in f.items() if _is_scale(d)}
        assert {"point", "replicate", "time", "nation", "option", "quantile"} <= dims
        assert "step" not in dims
        shape = {n: f[n].shape[0] for n in dims}
        for name, d in f.items():
            assert NAME.match(name), f"variable name {name!r} is not CF-valid"
            for a in d.attrs:
                if a not in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME",
                             "_Netcdf4Dimid", "_Netcdf4Coordinates"):
                    assert NAME.match(a), f"{name}: attribute {a!r}"
            if _is_scale(d):                 # a coordinate variable: monotonic, no fill
                v = d[()]
                if v.dtype.kind in "if":
                    assert np.all(np.diff(v) > 0), name
                assert "_FillValue" not in d.attrs, name
                continue
            # the dims of each variable, as the netCDF dimensions its scales name
            vdims = [f[ref].name.lstrip("/") for refs in d.attrs["DIMENSION_LIST"]
                     for ref in refs]
            assert len(vdims) == d.ndim and all(v in dims for v in vdims), name
            coords = _attr(d, "coordinates")
            for c in (coords or "").split():
                assert c in f, f"{name}: coordinates names {c!r}, which does not exist"
                cd = [f[r].name.lstrip("/") for refs in f[c].attrs["DIMENSION_LIST"]
                      for r in refs]
                assert set(cd) <= set(vdims), f"{name}: coordinate {c} spans {cd}"
            if "flag_meanings" in d.attrs:
                words = _attr(d, "flag_meanings").split()
                assert len(words) == len(d.attrs["flag_values"]), name
                assert all(NAME.match(w) for w in words), name
                assert "units" not in d.attrs, name
            units = _attr(d, "units")
            if d.dtype.kind in "OS":
                assert units is None, f"{name}: text with units"
            elif units is not None:
                assert units == "1", f"{name}: units {units!r} (want a UDUNITS string)"
        t = f["time"]
        assert _attr(t, "units") == "days since 1970-01-01"
        assert _attr(t, "calendar") in CALENDARS
        assert _attr(t, "standard_name") == "time" and _attr(t, "axis") == "T"
        # every variable along time lists its auxiliary coordinates step and date
        for v in ("policy_share", "high_risk_share_mean"):
            assert {"step", "date", "nation_name"} <= set(_attr(f[v], "coordinates").split())


@pytest.mark.parametrize("engine", ["netcdf4", "h5netcdf"])
def test_plain_xarray_one_liner(files, engine):
    """The issue's one-liner, with no package: select a year and a nation."""
    with xr.open_dataset(files["full"], engine=engine) as ds:
        y = ds.sel(time="2020", nation="DEU")
        assert list(y.date.values) == ["2020Q1", "2020Q2", "2020Q3", "2020Q4"]
        assert y.policy.dims == ("point", "replicate", "time")
        assert str(y.nation_name.values) == "Germany"
        np.testing.assert_array_equal(y.policy_share.values,
                                      ds.policy_share.values[:, 4:8, 1])
        # design inputs: point coordinates under valid names, the path as attribute
        for name, path in (("us_strategy", "us.strategy"), ("us_escalation", "us.escalation"),
                           ("nations_all_mitigation", "nations.*.mitigation")):
            assert name in ds.coords and ds[name].dims == ("point",)
            assert ds[name].attrs["path"] == path and ds[name].attrs["role"] == "design"
        assert ds.attrs["design_paths"] == "us.strategy us.escalation nations.*.mitigation"
        # categorical inputs by name; selecting by one works
        assert list(ds.us_strategy.values) == ["schedule"] * 4 + ["pivotal"] * 4
        piv = ds.where(ds.us_strategy == "pivotal", drop=True)
        assert list(piv.point.values) == [4, 5, 6, 7]
        assert list(ds.us_escalation.values) == [0, 0, 0.05, 0.05] * 2
        assert ds.us_escalation.attrs["model_units"] == "1/step"


def test_load_names_design_by_path(files):
    """load() keeps the package's names: design coordinates by scenario path, strategies
    as names; experiments() gives a Categorical; time_index=False restores step."""
    import allied5g

    ds = allied5g.load(files["summary"])
    assert "us.strategy" in ds.coords and "us_strategy" not in ds.variables
    assert list(ds["us.strategy"].values[:5]) == ["schedule"] * 4 + ["pivotal"]
    X = allied5g.experiments(ds)
    assert list(X.columns) == ["us.strategy", "us.escalation", "nations.*.mitigation"]
    assert list(X["us.strategy"].cat.categories) == ["schedule", "uniform", "pivotal",
                                                     "wavering"]
    assert list(allied5g.numeric_frame(X)["us.strategy"]) == [0] * 4 + [2] * 4
    plain = xr.open_dataset(files["summary"])
    assert allied5g.design_frame(plain).equals(X)
    assert ds.policy_share.dims == ("point", "time", "nation", "option")
    flat = allied5g.load(files["summary"], time_index=False)
    assert flat.policy_share.dims == ("point", "step", "nation", "option")
    assert flat.time.dims == ("step",)
    # every table carries a strategy as the same Categorical
    for fam in ("finals", "aggregates"):
        col = allied5g.to_dataframe(ds, fam, nation="DEU")["us.strategy"]
        assert list(col.cat.categories) == list(X["us.strategy"].cat.categories), fam
    # a categorical input works in the methods that need numbers
    y = allied5g.outcomes(ds, "banned_by(DEU, 2020Q4)")
    assert len(allied5g.feature_scores(X, y, permutation=False)) == 3
    allied5g.prim(X, y > y.median())


def _run(tmp_path, extra):
    """WORLD plus extra, run into tmp_path/o.h5; returns its path."""
    s = tmp_path / "s.yaml"
    s.write_text(WORLD + extra)
    run("run", s, "-o", tmp_path / "o.h5", "--quiet")
    return tmp_path / "o.h5"


def test_valid_names_of_nation_paths(tmp_path):
    """A nation's path and a every-nation path ('*' becomes "all") get valid names."""
    out = _run(tmp_path, "sweep: {nations.GBR.mitigation: [0.2, 0.4], nations.*.threat: [0.1, 0.3]}\n")
    with xr.open_dataset(out) as ds:
        assert ds.attrs["design_variables"] == "nations_GBR_mitigation nations_all_threat"


def test_a_design_path_named_like_a_results_variable(tmp_path):
    """us.pressure's valid name is us_pressure, a results variable: the design
    variable becomes us_pressure_2 (it made the run fail with an HDF5 error), and
    load() names it us.pressure again."""
    out = _run(tmp_path, "output: {record: [china_retaliation]}\n"
               "sweep: {us.pressure: [0.1, 0.3], china.retaliation: [0.2, 0.4]}\n")
    with xr.open_dataset(out) as ds:
        assert ds.attrs["design_variables"] == "us_pressure_2 china_retaliation_2"
        assert ds.us_pressure.dims == ("point", "replicate", "time", "nation")
        assert list(ds.us_pressure_2.values) == [0.1, 0.1, 0.3, 0.3]
        assert ds.us_pressure_2.attrs["path"] == "us.pressure"
    import allied5g
    d = allied5g.load(out)
    assert list(d["us.pressure"].values) == [0.1, 0.1, 0.3, 0.3]
    assert d["us_pressure"].dims == ("point", "replicate", "time", "nation")
    assert list(allied5g.experiments(d).columns) == ["us.pressure", "china.retaliation"]
