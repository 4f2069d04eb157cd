"""Words for readers of a report: what a model does, what an interval means, why a series
has no forecast and how to fix it (pure; no I/O).

The REST API gives error codes and developer messages; a report goes to a manager. Every
error code a section can carry maps to one sentence that says what is wrong with the data
and what to do, in the terms of the product (``missing="model"``, loading figures).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["describe_intervals", "describe_model", "describe_warning", "explain_error", "id_in_words"]

#: What each registered model does, for a reader (no parameter names, no tuning).
_MODELS = {
    "auto": "an average of several standard forecasting methods (exponential smoothing, ARIMA and Theta), "
    "chosen and weighted by how well each would have forecast this series' own past",
    "ensemble": "an equal-weight average of several standard forecasting methods",
    "naive": "the last observed value carried forward",
    "seasonal_naive": "the value of the same period a year earlier",
    "drift": "the last value extended along the average change of the past",
    "mean": "the average of the past values",
    "naive2": "the last value, adjusted for the usual seasonal pattern",
    "ets": "exponential smoothing: recent values weigh more, with trend and seasonal pattern where the data show them",
    "arima": "an ARIMA model of how each value depends on the previous ones",
    "sa_arima": "an ARIMA model on the seasonally adjusted series",
    "theta": "the Theta method: a damped trend line combined with smoothing of recent values",
    "optimized_theta": "the Theta method with its trend weight estimated from the data",
    "ces": "complex exponential smoothing",
    "deseasonalized": "a trend model on the seasonally adjusted series",
    "regression_arima": "a regression on known drivers with ARIMA errors",
    "structural": "a structural time-series model (a level, a trend and a seasonal pattern that evolve "
    "over time); it uses every published figure and skips the months that are missing, without filling them in",
}

#: Annual figures have no seasons: these models are described without a seasonal pattern.
_ANNUAL_MODELS = {
    "seasonal_naive": "the value of the previous year",
    "naive2": "the last observed value carried forward",
    "ets": "exponential smoothing: recent values weigh more, with a trend where the data show one",
    "sa_arima": "an ARIMA model of how each year's value depends on the previous ones",
    "deseasonalized": "a trend model of the yearly values",
    "structural": "a structural time-series model (a level and a trend that evolve over time); it uses every "
    "published figure and skips the years that are missing, without filling them in",
}

#: The period word of each frequency, for sentences about gaps.
_PERIOD_WORDS = {"annual": "years", "quarterly": "quarters", "monthly": "months"}

#: error code -> (what is wrong, what to do). ``{missing}`` is replaced for gap errors.
_ERRORS = {
    "missing_values": (
        "this series has gaps (periods with no published figure)",
        "forecast it with missing='model' (a model that skips the gaps) or load the missing monthly figures",
    ),
    "missing_periods": (
        "this series has gaps (periods with no published figure)",
        "forecast it with missing='model' (a model that skips the gaps) or load the missing monthly figures",
    ),
    "missing_not_supported": (
        "the chosen model cannot skip gaps in the data",
        "choose model 'structural' or 'auto' for this series, or load the missing figures",
    ),
    "insufficient_data": (
        "there are too few observations to fit a model",
        "load a longer history, or forecast with missing='model' if older figures exist with gaps between them",
    ),
    "empty_series": ("the series has no observations", "load its figures"),
    "share_out_of_range": (
        "a share lies outside 0-100%",
        "check that shares are stored as fractions (42.5% as 0.425) and correct the figure",
    ),
    "negative_value": ("the series has a negative value where none is possible", "correct the figure"),
    "non_finite_value": ("the series holds an infinite or unreadable number", "correct the figure"),
    "duplicate_period": ("a period appears twice", "keep one figure per period"),
    "mixed_frequency": (
        "the series mixes annual and monthly figures",
        "store the annual figures as a separate annual series",
    ),
    "model_fit_error": (
        "the model could not be estimated on these figures",
        "try another model (for example 'ets' or 'structural') or check the latest figures for errors",
    ),
    "series_not_found": ("no series of this id is stored", "load it, or remove it from the report"),
    "vintage_not_found": (
        "the store had no figures for this series at the report's date",
        "run the report for a later date, or load the series",
    ),
    "worker_lost": ("the forecast was interrupted", "run the report again"),
    "structure_not_found": ("no stored structure has this name", "define it, or remove it from the report"),
    "composition_not_summing_to_one": (
        "the shares of this structure are never all published for the same period, so no period sums to 100%",
        "load complete shares (every currency, including 'other') under the same ids",
    ),
    "incoherent_total": (
        "the parts do not add up to the stated total",
        "check the figures of the total and its parts for the periods named",
    ),
}


#: For a structure (forecast as one), gaps cannot be skipped: every part needs every period.
_STRUCTURE_GAPS = (
    "a series of this structure has gaps, and a structure is forecast from the periods in which every "
    "part is published",
    "load the complete figures under the same ids",
)


def explain_error(code: str, message: str = "", *, structure: bool = False) -> str:
    """One or two sentences for a reader: what is wrong with the data and how to fix it.

    Unknown codes fall back to the library's own message, which already names the problem.
    With ``structure=True`` the words fit a structure (gaps cannot be skipped there); the
    library's message, which names the series and periods, follows.
    """
    if structure and code in ("missing_values", "missing_periods"):
        what, fix = _STRUCTURE_GAPS
        head, sep, rest = message.partition(": ")
        detail = rest if sep and head.endswith("Error") else message
        return f"No forecast: {what}. To fix it, {fix}." + (f" ({detail})" if detail else "")
    if code in _ERRORS:
        what, fix = _ERRORS[code]
        return f"No forecast: {what}. To fix it, {fix}."
    if message:
        # Drop a leading exception class name ("InsufficientDataError: ...") a reader cannot use.
        head, sep, rest = message.partition(": ")
        text = rest if sep and head.endswith("Error") else message
        return f"No forecast: {text}"
    return "No forecast could be made for this series."


def describe_model(model: str, *, missing: str = "error", share: bool = False, frequency: str = "") -> str:
    """The model in a sentence a reader can follow, in the words of the series' ``frequency``.

    An annual series is never described with a seasonal pattern, and the periods a
    structural model skips are named by the frequency (years, quarters, months).
    """
    what = _MODELS.get(model, f"the {model} method")
    if frequency == "annual":
        what = _ANNUAL_MODELS.get(model, what)
    elif frequency in _PERIOD_WORDS:
        what = what.replace("skips the months", f"skips the {_PERIOD_WORDS[frequency]}")
    text = f"Forecast by {what}."
    if share:
        text += " Shares are modelled so that forecasts and bands stay between 0% and 100%."
    if missing == "model" and model != "structural":
        text += " Periods with no published figure are skipped, not filled in."
    return text


#: Two-letter words of ids that are not country codes.
_SMALL_WORDS = frozenset({"of", "to", "in", "on", "by", "at", "vs", "or", "as"})


def id_in_words(identifier: str) -> str:
    """An id as a title for a reader: ``cn_ru_trade_total`` → ``CN RU trade total``.

    Two-letter parts are read as country codes (``cn``, ``ru``), except small English words.
    """
    words = [w for w in re.split(r"[_.\s-]+", identifier) if w]
    if not words:
        return identifier
    shown = [w.upper() if len(w) == 2 and w.isalpha() and w.lower() not in _SMALL_WORDS else w for w in words]
    text = " ".join(shown)
    return text[0].upper() + text[1:]


def describe_intervals(levels: Sequence[int]) -> str:
    """What the shaded bands mean, for the report's levels."""
    if not levels:
        return "Point forecasts only."
    ordered = sorted(levels)
    names = " and ".join(f"{lv}%" for lv in ordered)
    widest = ordered[-1]
    return (
        f"The shaded bands are {names} prediction intervals: the value is expected to fall inside the "
        f"{widest}% band {widest} times in 100. The bands widen further ahead because the future is less "
        "certain; the backtest table shows how often they held in the past."
    )


#: Warnings whose library message speaks to a developer: the words a reader gets instead.
_WARNINGS = {
    "convergence": "The estimation did not fully settle on these figures; read the intervals with extra caution.",
    "fallback": "The chosen method could not be fitted to these figures, so a simpler one made the forecast.",
    "member_dropped": (
        "One of the methods the forecast combines could not handle these figures and was left out; the "
        "others made the forecast."
    ),
}


def describe_warning(code: str, message: str) -> str:
    """A forecasting warning for a reader (the library's message when it already reads well)."""
    return _WARNINGS.get(code, message)
