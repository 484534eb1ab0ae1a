"""AtomSetsRegressor: ``MLP -> weighted readout -> MLP`` on per-atom feature sets."""

from __future__ import annotations

from typing import Any

from sklearn.base import RegressorMixin

from ._atomsets_base import AtomSetsBase
from ._base import RegressorMixinNN, fit_checked
from ._params import AUTO_NOTES_DOC, AUTO_TRAINING_PARAMS_DOC

__all__ = ["AtomSetsRegressor"]


class AtomSetsRegressor(RegressorMixinNN, RegressorMixin, AtomSetsBase):
    """AtomSets regression model on weighted per-atom feature sets (skorch/PyTorch).

    ``phi`` (``n_layer_before_readout`` dense layers on every atom) -> weighted readout
    (mean, or weighted set2set with 3 steps) -> ``rho`` (``n_layer_after_readout`` dense
    layers) -> linear output. Targets are standardised internally.

    Parameters
    ----------
    n_layer_before_readout : int, default=2
        Dense layers applied to each member before the readout (paper grid: 1-3).
    n_layer_after_readout : int, default=2
        Dense layers after the readout (paper grid: 2-3).
    n_neurons : int or "auto", default="auto"
        Width of every hidden layer (paper grid: 16, 32, 64, 128).
        "auto": 64 below 50,000 training rows, 256 from there.
    readout : {"mean", "set2set"}, default="mean"
        Weighted mean (paper eq. 4) or weighted set2set (eqs. 5-9, 3 steps).
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
    {training}
    Attributes
    ----------
    nets_ : list of skorch.NeuralNet
        The trained networks (one per ensemble member).
    n_features_in_ : int
        Member feature width seen in ``fit``.
    y_mean_, y_scale_ : ndarray
        Target standardisation.
    history_ : list of skorch.History
    best_epochs_ : list of int
    domain_ : LatentDomain
        Reference for :meth:`domain_score` (latent vectors of up to 10,000 training
        materials per ensemble member); ``domain_threshold_`` is its out-of-domain threshold.
    n_extras_in_ : int
        Number of extra per-material inputs seen in ``fit`` (``RaggedSets.extras``, e.g. the
        numeric columns of a DataFrame given to the featurizer); 0 if none.
    extra_names_in_ : ndarray of str or None
        Their names; ``predict`` needs the same columns.
    extras_mean_, extras_scale_ : ndarray or None
        Standardisation of the extra inputs (fitted on the rows given to ``fit``).
    batch_size_, max_epochs_, patience_, n_ensemble_, lr_, lr_schedule_ : int, float or str
        The training parameters as used (``"auto"`` resolved; see Notes).
    validation_fraction_, n_neurons_, n_threads_ : float or int
        Likewise.
    loss_ : str
        The training loss as used.

    {auto_notes}
    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skatomsets import AtomSetsRegressor, ElementEmbeddingFeaturizer
    >>> model = make_pipeline(
    ...     ElementEmbeddingFeaturizer("megnet16"),
    ...     AtomSetsRegressor(max_epochs=5, random_state=0),
    ... )
    >>> X, y = ["Fe2O3", "NaCl", "MgO", "Al2O3"], [1.0, 2.0, 3.0, 4.0]
    >>> model.fit(X, y).predict(["FeO"]).shape
    (1,)
    """

    def __init__(
        self,
        n_layer_before_readout: int = 2,
        n_layer_after_readout: int = 2,
        n_neurons: int | str = "auto",
        readout: str = "mean",
        activation: str = "softplus",
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        batch_norm: bool = True,
        loss: str = "auto",
        max_epochs: int | str = "auto",
        batch_size: int | str = "auto",
        lr: float | str = "auto",
        weight_decay: float = 0.0,
        lr_schedule: str = "auto",
        validation_fraction: float | str | None = "auto",
        patience: int | str | None = "auto",
        n_ensemble: int | str = "auto",
        n_threads: int | str = "auto",
        random_state: Any = None,
        device: str = "auto",
        verbose: int = 0,
    ) -> None:
        self.n_layer_before_readout = n_layer_before_readout
        self.n_layer_after_readout = n_layer_after_readout
        self.n_neurons = n_neurons
        self.readout = readout
        self.activation = activation
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_ensemble = n_ensemble
        self.n_threads = n_threads
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Train on featurized inputs.

        Parameters
        ----------
        X : RaggedSets or array-like of shape (n_samples, n_features)
            Per-atom feature sets from a featurizer (a 2-D array is read as one single-atom
            set per row).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative per-sample weights: the training loss, the early-stopping metric
            (validation MAE / ROC-AUC) and the target scaling are weighted; a row of weight
            zero is left out entirely, and uniform weights equal none. Routed by
            scikit-learn's metadata routing (``set_fit_request(sample_weight=True)``).

        Returns
        -------
        self
        """
        return fit_checked(self, X, y, sample_weight)

    def __sklearn_tags__(self):
        return self._more_tags_regressor(super().__sklearn_tags__())


AtomSetsRegressor.__doc__ = AtomSetsRegressor.__doc__.replace(
    "    {training}\n", AUTO_TRAINING_PARAMS_DOC
).replace("    {auto_notes}\n", AUTO_NOTES_DOC)
