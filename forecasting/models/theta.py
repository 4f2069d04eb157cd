"""Theta methods: the M3 winner's Theta and the dynamic optimised Theta."""

from __future__ import annotations

from typing import Any

from forecasting.models._engine import StatsForecastModel

__all__ = ["CES", "OptimizedTheta", "Theta"]


class Theta(StatsForecastModel):
    """The standard Theta method (Assimakopoulos & Nikolopoulos, 2000), winner of M3.

    Seasonally adjusts by classical multiplicative decomposition when the seasonality test
    passes, then combines the linear trend (theta = 0) with simple exponential smoothing of
    the theta = 2 line; equivalent to SES with drift (Hyndman & Billah, 2003).

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    """

    def __init__(self, season_length: int | None = None) -> None:
        self.season_length = season_length

    def _engine(self, season_length: int) -> Any:
        from statsforecast.models import Theta as SFTheta

        return SFTheta(season_length=season_length)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"season_length": 4}]


class OptimizedTheta(StatsForecastModel):
    """Dynamic optimised Theta (Fiorucci et al., 2016): theta and the smoothing
    parameters estimated by likelihood, with dynamically updated trend coefficients.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.

    References
    ----------
    Fiorucci, J.A., Pellegrini, T.R., Louzada, F., Petropoulos, F. & Koehler, A.B. (2016).
    Models for optimising the theta method and their relationship to state space models.
    IJF 32, 1151-1161.
    """

    def __init__(self, season_length: int | None = None) -> None:
        self.season_length = season_length

    def _engine(self, season_length: int) -> Any:
        from statsforecast.models import DynamicOptimizedTheta

        return DynamicOptimizedTheta(season_length=season_length)


class CES(StatsForecastModel):
    """Complex exponential smoothing (Svetunkov & Kourentzes), form chosen by information
    criterion.

    Parameters
    ----------
    season_length : int or None
        Periods per season; None infers it from the index.
    seasonality_test : bool
        Consider seasonal forms only when the 90% autocorrelation test passes (default);
        with False the information criterion chooses.
    """

    tags = StatsForecastModel.tags.__class__(
        supports_intervals=True, handles_missing=False, requires_season_length=False, min_obs=6
    )

    def __init__(self, season_length: int | None = None, seasonality_test: bool = True) -> None:
        self.season_length = season_length
        self.seasonality_test = seasonality_test

    def _engine(self, season_length: int) -> Any:
        from statsforecast.models import AutoCES

        return AutoCES(season_length=season_length)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"seasonality_test": False}]
