"""Exponential smoothing (ETS) with automatic form selection."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from forecasting.base import ModelTags
from forecasting.exceptions import InvalidParameterError
from forecasting.models._engine import StatsForecastModel

__all__ = ["ETS"]


class ETS(StatsForecastModel):
    """ETS state-space model; the form is chosen by AICc among the admissible ones.

    Error, trend and seasonal components are each additive, multiplicative or none, with
    optional damping (Hyndman et al., 2002, 2008). Multiplicative forms are only considered
    for strictly positive data; seasonal forms only when the seasonality test passes, unless
    ``seasonality_test=False``.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    model : str
        Three letters for error, trend, season, each ``A``, ``M``, ``N`` or ``Z`` (choose
        automatically), as in R's ``forecast::ets``. Default ``"ZZZ"``.
    damped : bool or None
        Force (True) or forbid (False) a damped trend; None lets AICc decide.
    seasonality_test : bool
        Consider seasonal forms only when the 90% autocorrelation test at lag
        ``season_length`` passes (default, as the M-competition benchmarks do). With False,
        AICc chooses between seasonal and non-seasonal forms, as R's ``ets`` does; ``auto``
        uses that on monthly data, where it measured more accurate (``docs/engine.md``).

    References
    ----------
    Hyndman, R.J., Koehler, A.B., Ord, J.K. & Snyder, R.D. (2008). *Forecasting with
    Exponential Smoothing: The State Space Approach*. Springer.
    """

    tags: ClassVar[ModelTags] = replace(StatsForecastModel.tags, min_obs=7)

    def __init__(
        self,
        season_length: int | None = None,
        model: str = "ZZZ",
        damped: bool | None = None,
        seasonality_test: bool = True,
    ) -> None:
        self.season_length = season_length
        self.model = model
        self.damped = damped
        self.seasonality_test = seasonality_test

    def min_obs(self) -> int:
        # statsforecast refuses "tiny datasets": it needs about five observations more than
        # the number of estimated parameters (measured for each fixed form).
        spec = self.model.upper() if isinstance(self.model, str) and len(self.model) == 3 else "ZZZ"
        m = getattr(self, "season_length_", 1)
        if spec[1] == "Z" and spec[2] in "ZN":
            return self.tags.min_obs + (1 if self.damped else 0)
        n_params = 2 + (2 if spec[1] in "AM" else 0) + (1 if self.damped else 0)
        if spec[2] in "AM" and m > 1:
            n_params += m
        return max(self.tags.min_obs, n_params + 5)

    def _engine(self, season_length: int) -> Any:
        from statsforecast.models import AutoETS

        spec = self.model
        if not (isinstance(spec, str) and len(spec) == 3 and all(c in "AMNZ" for c in spec.upper())):
            raise InvalidParameterError(
                f"ETS(model={spec!r}): give three letters from A, M, N, Z, e.g. 'ZZZ' or 'AAN'."
            )
        spec = spec.upper()
        if season_length == 1 and spec[2] in "AMZ":
            spec = spec[:2] + "N"
        return AutoETS(season_length=season_length, model=spec, damped=self.damped)

    def _describe(self, engine: Any) -> str:
        return str(engine.model_.get("method", "ETS"))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"model": "AAN", "damped": True}, {"seasonality_test": False}]
