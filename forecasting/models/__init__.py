"""Forecasting models; see :mod:`forecasting.registry` for their registered names."""
