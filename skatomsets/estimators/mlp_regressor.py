"""AtomSetsMLPRegressor: a dense network on fixed-length features (MLP-V0-stats, MLP-f...)."""

from __future__ import annotations

from typing import Any

from sklearn.base import RegressorMixin

from ._atomsets_base import MLPBase
from ._base import RegressorMixinNN, fit_checked
from ._params import TRAINING_PARAMS_DOC

__all__ = ["AtomSetsMLPRegressor"]


class AtomSetsMLPRegressor(RegressorMixinNN, RegressorMixin, MLPBase):
    """Multilayer perceptron regressor for fixed-length features, trained like the set models.

    The paper's MLP-V0-stats (``SetStatsTransformer`` output), MLP-f, MLP-u1..u3 and MLP-v_r
    models: ``n_layers`` dense layers -> linear output, with the same validation split,
    early stopping, ensembles and devices as :class:`AtomSetsRegressor`. Scale the inputs first
    (e.g. ``StandardScaler`` in the Pipeline).

    Parameters
    ----------
    n_layers : int, default=3
        Number of hidden dense layers.
    n_neurons : int, default=64
        Width of every hidden layer.
    activation : {"softplus", "relu"}, default="softplus"
    dropout : float, default=0.0
    {training}
    Attributes
    ----------
    nets_ : list of skorch.NeuralNet
        The trained networks (one per ensemble member).
    n_features_in_ : int
        Number of input features seen in ``fit``.
    y_mean_, y_scale_ : ndarray
        Target standardisation.
    history_ : list of skorch.History
    best_epochs_ : list of int
    domain_ : LatentDomain
        Reference for :meth:`domain_score` (latent vectors of up to 10,000 training
        materials per ensemble member); ``domain_threshold_`` is its out-of-domain threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from skatomsets import AtomSetsMLPRegressor
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> AtomSetsMLPRegressor(max_epochs=5, random_state=0).fit(X, X[:, 0] > 0).predict(X).shape
    (20,)
    """

    def __init__(
        self,
        n_layers: int = 3,
        n_neurons: int = 64,
        activation: str = "softplus",
        dropout: float = 0.0,
        loss: str = "mse",
        max_epochs: int = 1000,
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        lr_schedule: str = "constant",
        validation_fraction: float | None = 0.1,
        patience: int | None = 200,
        n_ensemble: int = 1,
        random_state: Any = None,
        device: str = "auto",
        verbose: int = 0,
    ) -> None:
        self.n_layers = n_layers
        self.n_neurons = n_neurons
        self.activation = activation
        self.dropout = dropout
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_ensemble = n_ensemble
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Train on featurized inputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Fixed-length features.
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


AtomSetsMLPRegressor.__doc__ = AtomSetsMLPRegressor.__doc__.replace(
    "{training}", TRAINING_PARAMS_DOC
)
