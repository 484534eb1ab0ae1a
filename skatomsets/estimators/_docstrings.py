"""Shared numpydoc fragments of the estimators' docstrings, filled in by :func:`fill_doc`.

A docstring line that is only ``{name}`` (any indentation) is replaced by the fragment
``name`` of :data:`FRAGMENTS`, indented like the placeholder. Fragments are written once,
without indentation, so that the regressor and the classifier of a family document their
shared parameters with the same text.
"""

from __future__ import annotations

import re
import textwrap
from typing import TypeVar

from ._auto import AUTO_RULES_DOC

__all__ = ["FRAGMENTS", "fill_doc", "fit_doc"]

T = TypeVar("T")

_SET_ARCHITECTURE = """\
n_layer_before_readout : int, default=2
    Dense layers applied to each member before the readout (paper grid: 1-3).
n_layer_after_readout : int, default=2
    Dense layers after the readout (paper grid: 2-3).
n_neurons : int or "auto", default="auto"
    Width of every hidden layer (paper grid: 16, 32, 64, 128).
    "auto": 64 below 50,000 training rows, 256 from there.
readout : {"mean", "set2set"} or "auto", default="auto"
    Weighted mean (paper eq. 4) or weighted set2set (eqs. 5-9, 3 steps).
    "auto": set2set for regressors from 50,000 training rows, else the mean.
activation : {"softplus", "relu"}, default="softplus"
embedding_dim : int or None, default=None
    If set, the members are atomic numbers (``ElementEmbeddingFeaturizer("atomic_number")``)
    mapped through a trainable embedding of this width: the paper's non-transfer
    "AtomSets" model. If None, member features are used as they are (e.g. V0 = megnet16).
dropout : float, default=0.0
batch_norm : bool, default=True
    Batch-normalise the readout vector (helps when materials differ only in minor
    constituents; see :class:`~skatomsets.nn.AtomSetsModule`). False gives the paper's
    plain architecture.
"""

_MLP_ARCHITECTURE = """\
n_layers : int, default=3
    Number of hidden dense layers.
n_neurons : int or "auto", default="auto"
    Width of every hidden layer.
    "auto": 128 below 50,000 training rows, 256 from there.
activation : {"softplus", "relu"}, default="softplus"
dropout : float, default=0.0
"""

_AUTO_LOSS = """\
loss : {"auto", "mae", "mse", "huber"}, default="auto"
    Training loss on the standardised targets. "auto" = "mae", the metric that picks the
    best epoch.
"""

#: the run parameters every estimator shares, at the end of both training fragments
_RUN = """\
random_state : int, RandomState or None, default=None
    Seeds initialisation, shuffling and the validation split. Fixed seeds give identical
    results on CPU, run to run and process to process.
device : str, default="auto"
    Torch device: "cpu", "cuda", "cuda:1", or "auto" (CUDA when available).
verbose : int, default=0
    1 prints a line per epoch.
"""

_AUTO_TRAINING = (
    """\
max_epochs : int or "auto", default="auto"
    Maximum number of epochs.
batch_size : int or "auto", default="auto"
lr : float or "auto", default="auto"
    Adam learning rate.
weight_decay : float, default=0.0
    Adam weight decay.
lr_schedule : {"auto", "constant", "cosine"}, default="auto"
    "cosine" anneals the learning rate from ``lr`` towards 0 over ``max_epochs``
    (per epoch): steadier validation scores late in training on large data sets.
validation_fraction : float, None or "auto", default="auto"
    Fraction of the training data held out (stratified for classifiers) to pick the best
    epoch: validation MAE for regressors, ROC-AUC for classifiers. None or 0 trains on
    everything for ``max_epochs``.
patience : int, None or "auto", default="auto"
    Stop after this many epochs without improvement of the validation metric and restore
    the best epoch's weights (the paper uses 200). None disables early stopping.
n_ensemble : int or "auto", default="auto"
    Number of independently initialised networks (a deep ensemble); predictions are
    their mean, and ``predict(X, return_std=True)`` gives their spread.
n_threads : int or "auto", default="auto"
    Torch CPU threads used during ``fit`` and ``predict`` (torch's own setting is
    restored afterwards). "auto": one below 50,000 rows or with hidden layers narrower
    than 128 neurons, up to 4 otherwise (see Notes).
"""
    + _RUN
    + """\
    The "auto" parameters are resolved in ``fit``: see Notes.
"""
)

_MEGNET_ARCHITECTURE = """\
init : None, "pretrained", str, Path or MEGNet, default=None
    Where the network starts. None: from scratch, with the architecture given by
    ``n_blocks``, ``embedding_dim``, ``encoder_units``, ``block_units``,
    ``set2set_hidden``, ``head_units`` and ``cutoff``. "pretrained" (or the name of a
    shipped model, see :data:`skatomsets.megnet.PRETRAINED`): fine-tune the shipped
    mp-2019.4.1 formation-energy MEGNet. A path to a file written by
    :func:`skatomsets.megnet.save_parent` (e.g. by :meth:`save_parent` of another
    MEGNet estimator) or a :class:`~skatomsets.megnet.MEGNet` module: fine-tune your own
    parent. When fine-tuning, the architecture (and cutoff) is the parent's and the width
    parameters are ignored; the embedding, encoders, MEGNet blocks and Set2Set readouts
    start from the parent's weights, while the output MLP (``head``) is always
    re-initialised, since it has to learn a new target (with its own units and scale).
    The parent itself is never modified.
freeze : int, default=0
    Number of leading MEGNet blocks kept fixed while fine-tuning, together with the
    element embedding and those blocks' atom/bond/state encoders; 0 trains everything.
    Must be 0 when ``init`` is None (there is nothing to keep).
n_blocks : int, default=3
    MEGNet blocks (from scratch only).
embedding_dim : int, default=16
    Width of the element embedding (from scratch only).
encoder_units : tuple of int, default=(64, 32)
    Widths of the two-layer atom/bond/state encoders before each block (from scratch
    only); the last must equal ``block_units[-1]``.
block_units : tuple of int, default=(64, 64, 32)
    Widths of the φe/φv/φu update MLPs of each block (from scratch only).
set2set_hidden : int, default=16
    Width of the Set2Set readouts (from scratch only).
head_units : tuple of int, default=(32, 16)
    Hidden widths of the output MLP (from scratch only).
cutoff : float, default=5.0
    Neighbour cutoff in Å (from scratch only; the bond Gaussians span 0..cutoff + 1 Å).
allow_isolated : bool, default=False
    Accept structures with a site that has no neighbour within the cutoff (its pooled
    bond message is zero); by default they raise an error naming the row and site.
"""

_LOSS = """\
loss : {"mse", "mae", "huber"}, default="mse"
    Training loss on the standardised targets.
"""

_TRAINING = (
    """\
max_epochs : int, default=1000
    Maximum number of epochs.
batch_size : int, default=128
lr : float, default=1e-3
    Adam learning rate.
weight_decay : float, default=0.0
    Adam weight decay.
lr_schedule : {"constant", "cosine"}, default="constant"
    "cosine" anneals the learning rate from ``lr`` towards 0 over ``max_epochs``
    (per epoch): steadier validation scores late in training on large data sets.
validation_fraction : float or None, default=0.1
    Fraction of the training data held out (stratified for classifiers) to pick the best
    epoch: validation MAE for regressors, ROC-AUC for classifiers. None or 0 trains on
    everything for ``max_epochs``.
patience : int or None, default=200
    Stop after this many epochs without improvement of the validation metric and restore
    the best epoch's weights (the paper uses 200). None disables early stopping.
n_ensemble : int, default=1
    Number of independently initialised networks (a deep ensemble); predictions are
    their mean, and ``predict(X, return_std=True)`` gives their spread.
"""
    + _RUN
    + """
The budget parameters (``loss``, ``max_epochs``, ``batch_size``, ``lr``,
``lr_schedule``, ``validation_fraction``, ``patience``, ``n_ensemble``) also accept
"auto": the size rules of :class:`~skatomsets.AtomSetsRegressor`; resolved values are
stored as fitted attributes (``batch_size_``, ...).
"""
)

_AUTO_NOTES = (
    """\
Notes
-----
"""
    + textwrap.dedent(AUTO_RULES_DOC)
    + """
Parameters set explicitly are used as given (for example ``batch_size=128`` with
everything else "auto").
"""
)

_FITTED_NETS = """\
history_ : list of skorch.History
best_epochs_ : list of int
domain_ : LatentDomain
    Reference for :meth:`domain_score` (latent vectors of up to 10,000 training
    materials per ensemble member); ``domain_threshold_`` is its out-of-domain threshold.
"""

_EXTRAS_ATTRIBUTES = """\
n_extras_in_ : int
    Number of extra per-material inputs seen in ``fit`` (``RaggedSets.extras``, e.g. the
    numeric columns of a DataFrame given to the featurizer); 0 if none.
extra_names_in_ : ndarray of str or None
    Their names; ``predict`` needs the same columns.
extras_mean_, extras_scale_ : ndarray or None
    Standardisation of the extra inputs (fitted on the rows given to ``fit``).
"""

_AUTO_ATTRIBUTES = """\
batch_size_, max_epochs_, patience_, n_ensemble_, lr_, lr_schedule_ : int, float or str
    The training parameters as used (``"auto"`` resolved; see Notes).
validation_fraction_, n_neurons_, n_threads_ : float or int
    Likewise.
readout_ : str
    The readout as used (set models only).
"""

_SAMPLE_WEIGHT = """\
sample_weight : array-like of shape (n_samples,), optional
    Non-negative per-sample weights: the training loss, the early-stopping metric
    (validation MAE / ROC-AUC) and the target scaling are weighted; a row of weight
    zero is left out entirely, and uniform weights equal none. Routed by
    scikit-learn's metadata routing (``set_fit_request(sample_weight=True)``).
"""

#: ``fit``'s summary line and its ``X`` entry, by the kind of input a family takes
_FIT_INPUTS: dict[str, tuple[str, str]] = {
    "sets": (
        "Train on featurized inputs.",
        """\
X : RaggedSets or array-like of shape (n_samples, n_features)
    Per-atom feature sets from a featurizer (a 2-D array is read as one single-atom
    set per row).
""",
    ),
    "features": (
        "Train on featurized inputs.",
        """\
X : array-like of shape (n_samples, n_features)
    Fixed-length features.
""",
    ),
    "structures": (
        "Build the crystal graphs and train the network(s).",
        """\
X : sequence of pymatgen.core.Structure
    List, array or Series of Structures (or ``Structure.as_dict()`` dicts).
""",
    ),
}

#: ``fit``'s ``y`` entry, regressor or classifier
_FIT_TARGETS: dict[str, str] = {
    "regressor": "y : array-like of shape (n_samples,) or (n_samples, n_targets)\n",
    "classifier": """\
y : array-like of shape (n_samples,)
    Class labels (any type scikit-learn accepts).
""",
}

#: Named fragments; a docstring line ``{name}`` becomes ``FRAGMENTS[name]``.
FRAGMENTS: dict[str, str] = {
    "set_architecture": _SET_ARCHITECTURE,
    "mlp_architecture": _MLP_ARCHITECTURE,
    "megnet_architecture": _MEGNET_ARCHITECTURE,
    "auto_loss": _AUTO_LOSS,
    "auto_training": _AUTO_TRAINING,
    "loss": _LOSS,
    "training": _TRAINING,
    "auto_notes": _AUTO_NOTES,
    "fitted_nets": _FITTED_NETS,
    "extras_attributes": _EXTRAS_ATTRIBUTES,
    "auto_attributes": _AUTO_ATTRIBUTES,
    "sample_weight": _SAMPLE_WEIGHT,
}

_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*\n", re.MULTILINE)


def fill_doc(obj: T) -> T:
    """Decorator: replace the ``{name}`` lines of ``obj.__doc__`` by their fragments.

    Parameters
    ----------
    obj : class or function
        Its docstring may hold placeholder lines ``{name}`` (alone on their line) for the
        fragments of :data:`FRAGMENTS`; other braces (``{"mean", "set2set"}``) are left as
        they are.

    Returns
    -------
    obj
        The same object, its docstring filled in.

    Raises
    ------
    KeyError
        For a placeholder that names no fragment.
    """
    doc = obj.__doc__
    if doc is None:  # python -OO
        return obj

    def fill(match: re.Match[str]) -> str:
        indent, name = match.group(1), match.group(2)
        if name not in FRAGMENTS:
            raise KeyError(f"docstring of {obj!r} asks for an unknown fragment {name!r}")
        return textwrap.indent(FRAGMENTS[name], indent)

    obj.__doc__ = _PLACEHOLDER.sub(fill, doc)
    return obj


def fit_doc(inputs: str, task: str) -> str:
    """The docstring of a public estimator's ``fit``, indented as a method's.

    Parameters
    ----------
    inputs : {"sets", "features", "structures"}
        What ``X`` is: per-atom feature sets, fixed-length features or crystal structures.
    task : {"regressor", "classifier"}
        What ``y`` is.

    Returns
    -------
    str
    """
    summary, x_doc = _FIT_INPUTS[inputs]
    body = "Parameters\n----------\n" + x_doc + _FIT_TARGETS[task] + _SAMPLE_WEIGHT
    body += "\nReturns\n-------\nself\n"
    indent = " " * 8
    return f"{summary}\n\n{textwrap.indent(body, indent)}{indent}"
