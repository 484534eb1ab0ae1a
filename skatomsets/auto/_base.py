"""The search shared by the auto estimators: candidates scored on inner validation rows.

``fit(X, y)``:

1. the candidates (:func:`~skatomsets.auto._candidates.default_candidates`, or the user's)
   are scored on rows they did not train on. By default (``cv="auto"``) each is fitted once
   on all rows, with one seed for all, and scored on the rows its networks held out for
   early stopping (the same rows for every candidate): the search costs one fit per
   candidate and nothing is refitted. With ``cv=K`` each is fitted in K inner folds
   (``cv=1``: one split of ``validation_fraction``) and scored on their held-out rows;
2. the candidates are ranked; the mean prediction of the best 2..``max_ensemble`` is scored
   on the same rows, and kept if it scores better than the best single candidate;
3. the output rule is chosen on the same held-out predictions (the regressor's lower bound,
   the classifier's decision threshold: see the subclasses);
4. with ``cv=K``, the chosen candidates are refitted on all rows.

Nothing is chosen on data the final model is scored on: the held-out rows are rows given
to ``fit``. The default's scores are slightly optimistic for every candidate alike (the
best epoch of each network is picked on the same rows); ``cv=K`` has no such bias and costs
K + 1 fits per candidate.
"""

from __future__ import annotations

import time
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import Interval, StrOptions
from ..exceptions import SkatomsetsInputError
from ..featurizers._base import material_input_tags
from ._candidates import default_candidates, is_structure_input

__all__ = ["AutoModelBase"]

_SEED_MAX = np.iinfo(np.int32).max


def _n_rows(X: Any) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a list, array, Series or DataFrame of materials."""
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, np.ndarray):
        return X[idx]
    return [X[i] for i in idx]


#: Parameter docs shared by the auto estimators (``{search_parameters}``, ``{run_parameters}``
#: in their docstrings; filled by :func:`fill_doc`).
_DOCS = {
    "search_parameters": """
    candidates : "auto" or list of str, default="auto"
        :func:`~skatomsets.models.make_model` names to try; ``"auto"`` chooses them from the
        input kind (compositions or structures) and the number of rows.
    cv : "auto" or int, default="auto"
        How the candidates are scored. ``"auto"``: each candidate is fitted once, on all
        rows, and scored on the rows its networks held out for early stopping (every
        network of an ensemble holds out its own; one seed for all candidates makes them
        the same rows for every candidate), and the chosen ones are kept as fitted: the
        search costs one fit per candidate. An int K >= 2: each candidate is fitted in K
        inner folds and scored on their held-out rows, then the choice is refitted on all
        rows (K + 1 fits per candidate; no early-stopping rows in the score); 1: one
        inner split of ``validation_fraction`` of the rows, then the refit.
    validation_fraction : float, default=0.2
        Share of the rows held out with ``cv=1`` (stratified for classifiers).
    max_ensemble : int, default=3
        The mean of the best ``2..max_ensemble`` candidates is also scored, and kept if it
        beats the best single one.
    allow_isolated : bool, default=True
        Structures only: every parent network's featurizer accepts a site with no neighbour
        within its cutoff (a sparse cell, an isolated atom; the site gets no bond messages).
        One such structure would otherwise leave all of that parent's candidates out of the
        search. False keeps the ready models' default, under which such a structure is an
        error (and the candidate is left out, with the error in ``cv_results_``).
""".strip("\n"),
    "run_parameters": """
    model_params : dict, default=None
        Parameters given to every candidate's final estimator (e.g. ``{"device": "cuda"}``
        or a training budget); by default each runs at its own defaults.
    random_state : int, RandomState instance or None, default=None
        Seeds the split and every candidate: the same value gives the same search.
    verbose : int, default=0
        Print each candidate's validation score as it is fitted.
""".strip("\n"),
}


def fill_doc(cls: type) -> type:
    """Put the shared parameter docs into ``cls.__doc__`` (its ``{...}`` placeholders)."""
    doc = cls.__doc__ or ""
    for key, text in _DOCS.items():
        doc = doc.replace("    {" + key + "}", text)
    cls.__doc__ = doc
    return cls


def _fit_whole(
    model: Any, X: Any, y: Any, sample_weight: np.ndarray | None, name: str = "candidate"
) -> None:
    """Fit candidate ``name``; a Ctrl-C during it ends the search (a search cut short chose
    nothing). Progress bars and lines name the candidate.

    ``sample_weight`` goes to the Pipeline's ``model`` step (every ready model's last step).

    The neural estimators keep the last completed epoch on Ctrl-C and return, which is
    what a user interrupting one fit wants; the auto model instead stops, so that it never
    compares or keeps a half-trained candidate.
    """
    from ..estimators._progress import training_stage
    from ..uncertainty import final_estimator

    fit_params = {} if sample_weight is None else {"model__sample_weight": sample_weight}
    with training_stage(name):
        model.fit(X, y, **fit_params)
    nets = getattr(final_estimator(model), "nets_", [])
    if any(getattr(net, "interrupted_", False) for net in nets):
        raise KeyboardInterrupt("the auto model's search was interrupted")


def pooled(means: Any, stds: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the mixture of several models' ensembles (equal weights).

    The variance is the mean of each model's variance plus the spread of their means.
    """
    means, stds = np.asarray(means, np.float64), np.asarray(stds, np.float64)
    mean = means.mean(axis=0)
    var = (stds**2 + means**2).mean(axis=0) - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


class AutoModelBase(BaseEstimator):
    """Search over ready models on inner validation data; refit the best (or best few)."""

    _parameter_constraints: dict = {
        "candidates": [StrOptions({"auto"}), list, tuple],
        "cv": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0.05, 0.5, closed="both")],
        "max_ensemble": [Interval(Integral, 1, None, closed="left")],
        "allow_isolated": ["boolean"],
        "model_params": [dict, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        candidates: str | list[str],
        cv: str | int,
        validation_fraction: float,
        max_ensemble: int,
        allow_isolated: bool,
        model_params: dict[str, Any] | None,
        random_state: Any,
        verbose: int,
    ) -> None:
        # the parameters of both auto estimators, stored once; each subclass keeps its own
        # keyword-only signature with the defaults (scikit-learn reads it) and passes them here
        self.candidates = candidates
        self.cv = cv
        self.validation_fraction = validation_fraction
        self.max_ensemble = max_ensemble
        self.allow_isolated = allow_isolated
        self.model_params = model_params
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ subclass hooks
    def _is_classifier(self) -> bool:
        return False

    def _score(self, y_true: np.ndarray, pred: np.ndarray, w: np.ndarray | None) -> float:
        """Validation score of ``pred`` (higher is better)."""
        raise NotImplementedError

    def _val_output(self, model: Any, X: Any) -> np.ndarray:
        """What is averaged over chosen candidates: predictions or probabilities."""
        raise NotImplementedError

    def _choose_rule(self, y_true: np.ndarray, pred: np.ndarray, y_train: np.ndarray) -> None:
        """Choose the output rule (bound / threshold) on the held-out predictions."""

    # ------------------------------------------------------------------ helpers
    def _candidate_names(self, n: int) -> list[str]:
        if isinstance(self.candidates, str):
            return default_candidates(self.structures_, n)
        names = list(self.candidates)
        if not names or not all(isinstance(c, str) for c in names):
            raise ValueError(
                f"candidates must be 'auto' or a non-empty list of model names, got "
                f"{self.candidates!r}"
            )
        return names

    def _build(self, name: str, seed: int) -> Any:
        from ..models import make_model

        params = dict(self.model_params or {})
        params["random_state"] = seed
        model = make_model(name, classification=self._is_classifier(), **params)
        if self.allow_isolated and self.structures_:
            # every featurizer of a parent network, also inside joined site features
            keys = [k for k in model.get_params() if k.endswith("__allow_isolated")]
            model.set_params(**dict.fromkeys(keys, True))
        return model

    def _splits(self, y: np.ndarray, rng: np.random.RandomState) -> list[tuple[Any, Any]]:
        """The inner ``(train, validation)`` index pairs (``cv``; stratified for classifiers)."""
        n = len(y)
        seed = rng.randint(_SEED_MAX)
        k = self.cv
        stratify = False
        if self._is_classifier():
            _, counts = np.unique(y, return_counts=True)
            stratify = counts.min() >= max(k, 2)
        if k == 1:
            n_val = max(round(self.validation_fraction * n), 1)
            if stratify and n_val >= len(np.unique(y)):
                splitter: Any = StratifiedShuffleSplit(1, test_size=n_val, random_state=seed)
                return list(splitter.split(np.zeros(n), y))
            return list(ShuffleSplit(1, test_size=n_val, random_state=seed).split(np.zeros(n)))
        if k > n:
            raise ValueError(f"cv={k} folds need at least {k} rows, got {n}")
        if stratify:
            splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
            return list(splitter.split(np.zeros(n), y))
        return list(KFold(k, shuffle=True, random_state=seed).split(np.zeros(n)))

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[{type(self).__name__}] {msg}", flush=True)

    # ------------------------------------------------------------------ fit
    def _fit(self, X: Any, y: Any, sample_weight: Any = None):
        self._validate_params()
        y = np.asarray(y)
        n = _n_rows(X)
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"X has {n} rows but y has shape {y.shape}; y must be 1-D")
        if n < 4:
            raise ValueError(
                f"the auto model needs at least 4 rows to hold some out for validation, got {n}"
            )
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        rng = check_random_state(self.random_state)
        self.structures_ = is_structure_input(X)
        names = self._candidate_names(n)
        self.scored_on_ = "members' held-out rows" if self.cv == "auto" else "inner folds"
        if self.cv == "auto":
            results, outputs, val, fitted = self._score_on_members(names, X, y, w, rng)
        else:
            results, outputs, val, fitted = self._score_on_folds(names, X, y, w, rng)
        yv = y[val]
        wv = None if w is None else w[val]

        ranked = sorted(outputs, key=lambda k: results[k]["score"], reverse=True)
        best_k, best_score = 1, results[ranked[0]]["score"]
        ensemble_scores = {}
        for k in range(2, min(self.max_ensemble, len(ranked)) + 1):
            mean = np.mean([outputs[r] for r in ranked[:k]], axis=0)
            s = float(self._score(yv, mean, wv))
            ensemble_scores[k] = s
            if s > best_score:
                best_k, best_score = k, s
        chosen = ranked[:best_k]
        self.cv_results_ = {
            "candidate": list(results),
            "validation_score": [results[k]["score"] for k in results],
            "fit_time": [results[k]["fit_time"] for k in results],
            "error": [results[k].get("error", "") for k in results],
        }
        self.ensemble_scores_ = ensemble_scores
        self.candidates_ = list(results)
        self.best_candidate_ = ranked[0]
        self.chosen_ = chosen
        self.validation_score_ = float(best_score)
        self.n_validation_ = len(val)
        self._choose_rule(yv, np.mean([outputs[r] for r in chosen], axis=0), y)
        if fitted is not None:  # the candidates were fitted on all rows already
            self.estimators_ = [fitted[name] for name in chosen]
            self._log(f"chosen: {' + '.join(chosen)}")
            return self
        self._log(f"chosen: {' + '.join(chosen)}; refitting on all {n} rows")
        refitted = []
        for name in chosen:
            model = self._build(name, int(rng.randint(_SEED_MAX)))
            _fit_whole(model, X, y, w, name)
            refitted.append(model)
        self.estimators_ = refitted
        return self

    def _try(self, name: str, i: int, n_names: int, results: dict, run: Any) -> Any:
        """Run one candidate; a candidate that cannot featurize these data is left out."""
        self._log(f"candidate {i + 1}/{n_names}: {name} ...")
        start = time.perf_counter()
        try:
            out = run()
        except (SkatomsetsInputError, ImportError) as exc:
            # a source that cannot featurize these materials (an element a table does not
            # cover, a parent package not installed) is left out, and said so
            results[name] = {
                "score": np.nan,
                "fit_time": time.perf_counter() - start,
                "error": f"{type(exc).__name__}: {exc}",
            }
            self._log(f"  left out: {results[name]['error']}")
            return None
        results[name] = {"score": np.nan, "fit_time": time.perf_counter() - start}
        return out

    def _score_on_members(self, names, X, y, w, rng):
        """Fit each candidate once on all rows; score it on its networks' held-out rows.

        Every network of a default ensemble holds out its own validation rows (its early
        stopping split). With one seed for every candidate, the candidates' networks hold
        out the same rows, so their predictions there (each row: the mean of the networks
        that held it out) compare the candidates on the same data, at no extra fit. The
        chosen candidates are kept as fitted: no refit.
        """
        seed = int(rng.randint(_SEED_MAX))
        results: dict[str, dict[str, Any]] = {}
        outputs: dict[str, np.ndarray] = {}
        covered: dict[str, np.ndarray] = {}
        fitted: dict[str, Any] = {}

        def run(name: str) -> Any:
            model = self._build(name, seed)
            _fit_whole(model, X, y, w, name)
            return model, *self._member_outputs(model, X)

        for i, name in enumerate(names):
            got = self._try(name, i, len(names), results, lambda name=name: run(name))
            if got is not None:
                fitted[name], outputs[name], covered[name] = got
        self._check_any(results, outputs)
        mask = np.logical_and.reduce([covered[k] for k in outputs])
        if not mask.any():
            raise ValueError(
                "the candidates' networks held out no common rows to score them on; use "
                "cv=3 (inner folds) or a larger validation_fraction in model_params"
            )
        val = np.flatnonzero(mask)
        for name in outputs:
            outputs[name] = outputs[name][mask]
            self._record_score(results[name], y[val], outputs[name], None if w is None else w[val])
        return results, outputs, val, fitted

    def _member_outputs(self, model: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Each row's output averaged over the networks that held it out, and which rows."""
        from ..uncertainty import _split

        est, transform = _split(model)  # the final estimator, and X up to it
        feats = transform(X)
        held = getattr(est, "validation_indices_", None)
        if held is None or all(h is None for h in held):
            raise ValueError(
                f"{type(est).__name__} trained without a validation split, so its held-out "
                "rows cannot score it; use cv=3 (inner folds)"
            )
        outs = est._forward_all(feats)  # (n_networks, n_rows, n_outputs), raw outputs
        outs = self._member_values(est, outs)
        n = outs.shape[1]
        total = np.zeros(outs.shape[1:], dtype=np.float64)
        count = np.zeros(n)
        for k, rows in enumerate(held[: len(outs)]):
            if rows is not None:
                total[rows] += outs[k, rows]
                count[rows] += 1
        mask = count > 0
        scale = count[mask].reshape(-1, *([1] * (total.ndim - 1)))
        full = np.zeros_like(total)
        full[mask] = total[mask] / scale
        return full, mask

    def _member_values(self, est: Any, outs: np.ndarray) -> np.ndarray:
        """Raw network outputs -> what :meth:`_val_output` gives (see the subclasses)."""
        raise NotImplementedError

    def _score_on_folds(self, names, X, y, w, rng):
        """Fit each candidate in the inner folds; score it on their held-out rows."""
        splits = self._splits(y, rng)
        val = np.concatenate([v for _, v in splits])
        results: dict[str, dict[str, Any]] = {}
        outputs: dict[str, np.ndarray] = {}

        def run(name: str, seed: int) -> np.ndarray:
            parts = []
            for train, held in splits:
                model = self._build(name, seed)
                w_train = None if w is None else w[train]
                _fit_whole(model, _take(X, train), y[train], w_train, name)
                parts.append(self._val_output(model, _take(X, held)))
            return np.concatenate(parts)

        for i, name in enumerate(names):
            seed = int(rng.randint(_SEED_MAX))
            out = self._try(name, i, len(names), results, lambda n=name, s=seed: run(n, s))
            if out is None:
                continue
            outputs[name] = out
            self._record_score(results[name], y[val], out, None if w is None else w[val])
        self._check_any(results, outputs)
        return results, outputs, val, None

    def _record_score(self, result: dict, y_val: Any, out: Any, w_val: Any) -> None:
        """Score one candidate's held-out outputs into its ``result`` and say it."""
        result["score"] = float(self._score(y_val, out, w_val))
        self._log(f"  validation {self._metric_name()} {self._display(result['score']):.4g}")

    @staticmethod
    def _check_any(results: dict, outputs: dict) -> None:
        if not outputs:
            errors = [r["error"] for r in results.values() if r.get("error")]
            raise ValueError(
                "no candidate could be fitted on these data; the first error was: "
                + (errors[0] if errors else "none")
            )

    def _metric_name(self) -> str:
        raise NotImplementedError

    def _display(self, score: float) -> float:
        """The score as people read it (e.g. MAE, not its negative)."""
        return score

    # ------------------------------------------------------------------ reporting
    def describe(self) -> str:
        """What the search tried and chose, one line per candidate (the CLI prints it)."""
        check_is_fitted(self)
        lines = [
            f"auto model: {len(self.candidates_)} candidates scored on {self.n_validation_} "
            f"held-out rows ({self._metric_name()}):"
        ]
        for name, score, t, err in zip(
            self.cv_results_["candidate"],
            self.cv_results_["validation_score"],
            self.cv_results_["fit_time"],
            self.cv_results_["error"],
            strict=True,
        ):
            mark = "*" if name in self.chosen_ else " "
            what = f"left out ({err})" if err else f"{self._display(score):.4g}"
            lines.append(f"  {mark} {name:<22} {what}  [{t:.0f} s]")
        for k, s in self.ensemble_scores_.items():
            lines.append(f"    mean of best {k}         {self._display(s):.4g}")
        lines.append(f"  chosen: {' + '.join(self.chosen_)}{self._rule_text()}")
        return "\n".join(lines)

    def _rule_text(self) -> str:
        return ""

    # ------------------------------------------------------------------ uncertainty
    def domain_score(self, X: Any) -> np.ndarray:
        """Domain-of-applicability score of the best chosen model (see
        :func:`skatomsets.uncertainty.domain_score`)."""
        from ..uncertainty import domain_score

        check_is_fitted(self)
        return domain_score(self.estimators_[0], X)

    @property
    def domain_threshold_(self) -> float:
        """The out-of-domain threshold of the best chosen model."""
        from ..uncertainty import domain_threshold

        check_is_fitted(self)
        return domain_threshold(self.estimators_[0])

    def out_of_domain(self, X: Any) -> np.ndarray:
        """True where :meth:`domain_score` exceeds :attr:`domain_threshold_`."""
        return self.domain_score(X) > self.domain_threshold_

    @property
    def extra_names_in_(self) -> Any:
        """Names of the extra per-material inputs the chosen models were fitted with."""
        check_is_fitted(self)
        model = self.estimators_[0]
        for step in [s for _, s in getattr(model, "steps", [])] or [model]:
            names = getattr(step, "extra_names_in_", None)  # set model, or set statistics
            if names is not None:
                return names
        return None

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "estimators_")

    def __sklearn_tags__(self):
        tags = material_input_tags(super().__sklearn_tags__())
        tags.non_deterministic = False
        return tags
