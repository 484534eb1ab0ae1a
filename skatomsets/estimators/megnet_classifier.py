"""MEGNetClassifier: train MEGNet itself on crystal structures for class labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sklearn.base import ClassifierMixin

from ..megnet.model import MEGNet
from ._base import ClassifierMixinNN, fit_method
from ._docstrings import fill_doc
from ._megnet_base import MEGNetBase

__all__ = ["MEGNetClassifier"]


@fill_doc
class MEGNetClassifier(ClassifierMixinNN, ClassifierMixin, MEGNetBase):
    """MEGNet graph network classifying pymatgen Structures (skorch/PyTorch).

    As :class:`~skatomsets.MEGNetRegressor` (graphs built once per ``fit``, batched by
    slicing, from scratch or fine-tuned from a parent), with one logit per class (softmax
    cross-entropy) and early stopping on the validation ROC-AUC.

    Parameters
    ----------
    {megnet_architecture}
    {training}

    Attributes
    ----------
    nets_ : list of skorch.NeuralNet
        The trained networks (one per ensemble member); ``net.module_.megnet`` is the MEGNet.
    megnet_config_ : MEGNetConfig
        Architecture of the trained networks (``n_targets`` aside).
    classes_ : ndarray
        Class labels, in the column order of ``predict_proba``.
    {fitted_nets}

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skatomsets import MEGNetClassifier
    >>> X = [Structure(Lattice.cubic(a), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    ...      for a in (4.0, 4.1, 4.2, 4.3)]
    >>> model = MEGNetClassifier(block_units=(16, 16), encoder_units=(16, 16), max_epochs=2,
    ...                          random_state=0, device="cpu")
    >>> model.fit(X, [0, 0, 1, 1]).predict_proba(X[:1]).shape
    (1, 2)
    """

    def __init__(
        self,
        *,
        init: str | Path | MEGNet | None = None,
        freeze: int = 0,
        n_blocks: int = 3,
        embedding_dim: int = 16,
        encoder_units: tuple[int, ...] = (64, 32),
        block_units: tuple[int, ...] = (64, 64, 32),
        set2set_hidden: int = 16,
        head_units: tuple[int, ...] = (32, 16),
        cutoff: float = 5.0,
        allow_isolated: bool = False,
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
        self.init = init
        self.freeze = freeze
        self.n_blocks = n_blocks
        self.embedding_dim = embedding_dim
        self.encoder_units = encoder_units
        self.block_units = block_units
        self.set2set_hidden = set2set_hidden
        self.head_units = head_units
        self.cutoff = cutoff
        self.allow_isolated = allow_isolated
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

    fit = fit_method("structures", "classifier")
