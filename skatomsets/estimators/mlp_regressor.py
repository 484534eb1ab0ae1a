"""AtomSetsMLPRegressor: a dense network on fixed-length features (MLP-V0-stats, MLP-f...)."""

from __future__ import annotations

from typing import Any

from sklearn.base import RegressorMixin

from ._atomsets_base import MLPBase
from ._base import RegressorMixinNN, fit_method
from ._docstrings import fill_doc
from ._params import AUTO_LOSS

__all__ = ["AtomSetsMLPRegressor"]


@fill_doc
class AtomSetsMLPRegressor(RegressorMixinNN, RegressorMixin, MLPBase):
    """Multilayer perceptron regressor for fixed-length features, trained like the set models.

    The paper's MLP-V0-stats (``SetStatsTransformer`` output), MLP-f, MLP-u1..u3 and MLP-v_r
    models: ``n_layers`` dense layers -> linear output, with the same validation split,
    early stopping, ensembles and devices as :class:`AtomSetsRegressor`. Scale the inputs first
    (e.g. ``StandardScaler`` in the Pipeline).

    Parameters
    ----------
    {mlp_architecture}
    {auto_loss}
    {auto_training}

    Attributes
    ----------
    nets_ : list of skorch.NeuralNet
        The trained networks (one per ensemble member).
    n_features_in_ : int
        Number of input features seen in ``fit``.
    y_mean_, y_scale_ : ndarray
        Target standardisation.
    {fitted_nets}
    {auto_attributes}
    loss_ : str
        The training loss as used.

    {auto_notes}

    Examples
    --------
    >>> import numpy as np
    >>> from skatomsets import AtomSetsMLPRegressor
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> AtomSetsMLPRegressor(max_epochs=5, random_state=0).fit(X, X[:, 0] > 0).predict(X).shape
    (20,)
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **MLPBase._parameter_constraints,
        **AUTO_LOSS,
    }

    def __init__(
        self,
        *,
        n_layers: int = 3,
        n_neurons: int | str = "auto",
        activation: str = "softplus",
        dropout: float = 0.0,
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
        self.n_threads = n_threads
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    fit = fit_method("features", "regressor")
