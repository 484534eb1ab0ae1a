"""Models that choose their own atom features and model by inner validation.

:class:`AutoAtomSetsRegressor` and :class:`AutoAtomSetsClassifier` (``make_model("auto")``)
try several ready models of :mod:`skatomsets.models` (element features from every source,
parent networks' site features, MLPs on set statistics) on held-out rows of the training
data, keep the best or the mean of the best few, choose the output rule (lower bound,
decision threshold) on the same rows, and refit on all rows.
"""

from ._candidates import default_candidates, is_structure_input
from .classifier import AutoAtomSetsClassifier, balanced_threshold
from .regressor import AutoAtomSetsRegressor

__all__ = [
    "AutoAtomSetsClassifier",
    "AutoAtomSetsRegressor",
    "balanced_threshold",
    "default_candidates",
    "is_structure_input",
]
