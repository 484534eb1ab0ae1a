"""AtomSetsMLPClassifier: a dense network on fixed-length features (MLP-V0-stats, MLP-f...)."""

from __future__ import annotations

from typing import Any

from sklearn.base import ClassifierMixin

from ._atomsets_base import MLPBase
from ._base import ClassifierMixinNN, fit_checked
from ._params import AUTO_NOTES_DOC, AUTO_TRAINING_PARAMS_DOC

__all__ = ["AtomSetsMLPClassifier"]


class AtomSetsMLPClassifier(ClassifierMixinNN, ClassifierMixin, MLPBase):
    """Multilayer perceptron classifier for fixed-length features, trained like the set models.

    The paper's MLP-V0-stats (``SetStatsTransformer`` output), MLP-f, MLP-u1..u3 and MLP-v_r
    models: ``n_layers`` dense layers -> linear output, with the same validation split,
    early stopping, ensembles and devices as :class:`AtomSetsClassifier`. Scale the inputs first
    (e.g. ``StandardScaler`` in the Pipeline).

    Parameters
    ----------
    n_layers : int, default=3
        Number of hidden dense layers.
    n_neurons : int or "auto", default="auto"
        Width of every hidden layer.
        "auto": 128 below 50,000 training rows, 256 from there.
    activation : {"softplus", "relu"}, default="softplus"
    dropout : float, default=0.0
    {training}
    Attributes
    ----------
    nets_ : list of skorch.NeuralNet
        The trained networks (one per ensemble member).
    n_features_in_ : int
        Number of input features seen in ``fit``.
    classes_ : ndarray
        Class labels, in the column order of ``predict_proba``.
    history_ : list of skorch.History
    best_epochs_ : list of int
    domain_ : LatentDomain
        Reference for :meth:`domain_score` (latent vectors of up to 10,000 training
        materials per ensemble member); ``domain_threshold_`` is its out-of-domain threshold.
    batch_size_, max_epochs_, patience_, n_ensemble_, lr_, lr_schedule_ : int, float or str
        The training parameters as used (``"auto"`` resolved; see Notes).
    validation_fraction_, n_neurons_, n_threads_ : float or int
        Likewise.

    {auto_notes}
    Examples
    --------
    >>> import numpy as np
    >>> from skatomsets import AtomSetsMLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> AtomSetsMLPClassifier(max_epochs=5, random_state=0).fit(X, X[:, 0] > 0).predict(X).shape
    (20,)
    """

    def __init__(
        self,
        n_layers: int = 3,
        n_neurons: int | str = "auto",
        activation: str = "softplus",
        dropout: float = 0.0,
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
        X : array-like of shape (n_samples, n_features)
            Fixed-length features.
        y : array-like of shape (n_samples,)
            Class labels (any type scikit-learn accepts).
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


AtomSetsMLPClassifier.__doc__ = AtomSetsMLPClassifier.__doc__.replace(
    "    {training}\n", AUTO_TRAINING_PARAMS_DOC
).replace("    {auto_notes}\n", AUTO_NOTES_DOC)
