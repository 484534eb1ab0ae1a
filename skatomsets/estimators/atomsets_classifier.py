"""AtomSetsClassifier: ``MLP -> weighted readout -> MLP`` on per-atom feature sets."""

from __future__ import annotations

from typing import Any

from sklearn.base import ClassifierMixin

from ._atomsets_base import AtomSetsBase
from ._base import ClassifierMixinNN, fit_method
from ._docstrings import fill_doc

__all__ = ["AtomSetsClassifier"]


@fill_doc
class AtomSetsClassifier(ClassifierMixinNN, ClassifierMixin, AtomSetsBase):
    """AtomSets classification model on weighted per-atom feature sets (skorch/PyTorch).

    ``phi`` (``n_layer_before_readout`` dense layers on every atom) -> weighted readout
    (mean, or weighted set2set with 3 steps) -> ``rho`` (``n_layer_after_readout`` dense
    layers) -> linear output (one logit per class, softmax
    cross-entropy). Early stopping monitors the validation ROC-AUC.

    Parameters
    ----------
    {set_architecture}
    {auto_training}

    Attributes
    ----------
    nets_ : list of skorch.NeuralNet
        The trained networks (one per ensemble member).
    n_features_in_ : int
        Member feature width seen in ``fit``.
    classes_ : ndarray
        Class labels, in the column order of ``predict_proba``.
    {fitted_nets}
    {extras_attributes}
    {auto_attributes}

    {auto_notes}

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skatomsets import AtomSetsClassifier, ElementEmbeddingFeaturizer
    >>> model = make_pipeline(
    ...     ElementEmbeddingFeaturizer("megnet16"),
    ...     AtomSetsClassifier(max_epochs=5, random_state=0),
    ... )
    >>> X, y = ["Fe2O3", "NaCl", "MgO", "Al2O3"], [0, 1, 0, 1]
    >>> model.fit(X, y).predict(["FeO"]).shape
    (1,)
    """

    def __init__(
        self,
        *,
        n_layer_before_readout: int = 2,
        n_layer_after_readout: int = 2,
        n_neurons: int | str = "auto",
        readout: str = "auto",
        activation: str = "softplus",
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        batch_norm: bool = True,
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

    fit = fit_method("sets", "classifier")
