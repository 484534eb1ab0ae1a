"""MEGNetRegressor: train MEGNet itself on crystal structures (from scratch or fine-tuned)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sklearn.base import RegressorMixin

from ..megnet.model import MEGNet
from ._base import RegressorMixinNN, fit_method
from ._docstrings import fill_doc
from ._megnet_base import MEGNetBase
from ._params import LOSS

__all__ = ["MEGNetRegressor"]


@fill_doc
class MEGNetRegressor(RegressorMixinNN, RegressorMixin, MEGNetBase):
    """MEGNet graph network trained on pymatgen Structures (skorch/PyTorch).

    The crystal graphs of all training structures are built once per ``fit`` into one flat
    batch; mini-batches are cut from it by slicing, and the network (the package's
    pure-PyTorch :class:`~skatomsets.megnet.MEGNet`) runs segment operations over the whole
    mini-batch, with no Python loop over structures. Targets are standardised internally.
    Train from scratch (``init=None``), fine-tune the shipped formation-energy parent
    (``init="pretrained"``, optionally with ``freeze``), or fine-tune your own parent; a
    trained network can in turn be saved as a parent (:meth:`save_parent`) for
    :class:`~skatomsets.MEGNetSiteFeaturizer` / :class:`~skatomsets.MEGNetStructureFeaturizer`.

    Parameters
    ----------
    {megnet_architecture}
    {loss}
    {training}

    Attributes
    ----------
    nets_ : list of skorch.NeuralNet
        The trained networks (one per ensemble member); ``net.module_.megnet`` is the MEGNet.
    megnet_config_ : MEGNetConfig
        Architecture of the trained networks (``n_targets`` aside).
    y_mean_, y_scale_ : ndarray
        Target standardisation.
    {fitted_nets}

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skatomsets import MEGNetRegressor
    >>> X = [Structure(Lattice.cubic(a), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    ...      for a in (4.0, 4.1, 4.2, 4.3)]
    >>> model = MEGNetRegressor(block_units=(16, 16), encoder_units=(16, 16), max_epochs=2,
    ...                         random_state=0, device="cpu")
    >>> model.fit(X, [s.volume for s in X]).predict(X[:1]).shape
    (1,)
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **MEGNetBase._parameter_constraints,
        **LOSS,
    }

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

    fit = fit_method("structures", "regressor")
