"""allied5g: run the simulator and analyse its results files in notebooks.

    import allied5g
    ds = allied5g.run("scenarios/huawei_2019.yaml", replicates=1000)   # or a dict
    ds = allied5g.load("out.h5")          # lazy; a time axis; design values as coords
    allied5g.to_dataframe(ds, "policy", nation=["GBR", "DEU"])         # one family
    allied5g.sobol_indices(ds, y)         # y: DataArray over "point"
"""
__version__ = "0.3.0"   # the simulator's version (CMakeLists.txt project VERSION); a test checks

from .api import RunError, ScenarioError, find_binary, run
from .calibration import calibration_report
from .io import (FAMILIES, POLICIES, DatesWarning, ExportError, ResultsError, ResultsWarning,
                 decode_policy, design_frame, design_var, export_bytes, numeric_frame,
                 design_paths, export_csv, families, load, load_live, to_dataframe)
from .plots import (ban_timeline, cohesion, cohesion_plot, fan_chart, policy_probabilities,
                    sensitivity_bars, sweep_response)
from .report import key_findings, write_report
from .sensitivity import sobol_indices
from .uncertainty import share_interval

from .explore import (OUTCOMES, experiments, feature_scores, feature_scores_heatmap,
                      morris_design, morris_indices, morris_plot, outcomes)
from .prim import CartResult, PrimResult, cart, prim
from .paired import PAIRED_OUTCOMES, compare, is_crn, replicate_outcome
from .pareto import SearchResult, SearchWarning, search, search_levers
from .robust import (experiments_outcomes, is_robust, levers, policy_worlds,
                     rank_disagreement, robustness, robustness_compare, robustness_plot,
                     uncertainties, vulnerability)

__all__ = ["__version__", "run", "find_binary", "ScenarioError", "RunError", "ResultsError",
           "ResultsWarning", "DatesWarning", "ExportError", "export_bytes", "POLICIES",
           "FAMILIES", "load", "load_live", "decode_policy",
           "to_dataframe", "families", "export_csv", "design_frame", "design_paths",
           "design_var", "numeric_frame",
           "sobol_indices", "policy_probabilities", "fan_chart", "ban_timeline", "cohesion",
           "cohesion_plot", "sweep_response", "sensitivity_bars", "key_findings",
           "write_report", "experiments", "outcomes", "OUTCOMES", "prim", "PrimResult", "cart",
           "CartResult", "feature_scores", "feature_scores_heatmap", "morris_design",
           "morris_indices", "morris_plot", "calibration_report", "compare", "is_crn",
           "policy_worlds", "robustness", "robustness_compare", "rank_disagreement",
           "robustness_plot", "is_robust", "levers", "uncertainties",
           "experiments_outcomes", "vulnerability", "search", "search_levers",
           "SearchResult", "SearchWarning",
           "replicate_outcome", "PAIRED_OUTCOMES", "share_interval"]
