"""Old import path of the settings, kept only until every module imports :mod:`api.settings`.

``ApiSettings`` is now :class:`api.settings.Settings` (the one settings object of the
service). Delete this module once ``api/service.py`` and ``api/jobs.py`` import
``api.settings`` directly.
"""

from __future__ import annotations

from api.settings import ApiKey, Settings, get_settings, is_loopback, parse_api_keys

__all__ = ["ApiKey", "ApiSettings", "get_settings", "is_loopback", "parse_api_keys"]

ApiSettings = Settings
