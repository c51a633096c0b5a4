"""allied5g: analyse allied5g results files in notebooks.

    import allied5g
    ds = allied5g.load("out.h5")
    allied5g.to_dataframe(ds, "policy_share")
    allied5g.sobol_indices(ds, y)          # y: DataArray over "point"
"""
from .io import (POLICIES, decode_policy, design_frame, design_paths, load, load_live,
                 to_dataframe)
from .plots import (ban_timeline, cohesion, cohesion_plot, fan_chart, policy_probabilities,
                    sensitivity_bars, sweep_response)
from .report import key_findings, write_report
from .sensitivity import sobol_indices

__all__ = ["POLICIES", "load", "load_live", "decode_policy", "to_dataframe", "design_frame", "design_paths", "sobol_indices",
           "policy_probabilities", "fan_chart", "ban_timeline", "cohesion", "cohesion_plot",
           "sweep_response", "sensitivity_bars", "key_findings", "write_report"]

from .explore import (OUTCOMES, experiments, feature_scores, feature_scores_heatmap,  # noqa: E402
                      morris_design, morris_indices, morris_plot, outcomes)
from .prim import CartResult, PrimResult, cart, prim  # noqa: E402

__all__ += ["experiments", "outcomes", "OUTCOMES", "prim", "PrimResult", "cart", "CartResult",
            "feature_scores", "feature_scores_heatmap", "morris_design", "morris_indices",
            "morris_plot"]
