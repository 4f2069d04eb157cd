"""Exceptions raised by :mod:`data`.

Every error carries a snake_case ``code`` that the REST layer puts in its error body. Where
an error refines a :mod:`forecasting` error it inherits it first, so the API's MRO-based
status table maps it without knowing about :mod:`data`::

    DataError(Exception)
    ├── ConflictError                                   409: concurrent write lost, frequency change
    ├── StorageUnavailableError                         503: database cannot be reached
    ├── IngestError(InvalidSeriesError, DataError)      422: bad upload; names line, column, value
    │   │                                               and carries the series parser's code
    │   └── UploadLimitError                            413: more columns, series or cells than a cap
    ├── SeriesNotFoundError(NotFoundError, DataError)   404: unknown series id
    ├── VintageNotFoundError(NotFoundError, DataError)  404: no vintage of that id / at that time
    ├── ForecastNotFoundError(NotFoundError, DataError) 404: unknown archived forecast
    ├── StructureNotFoundError(NotFoundError, DataError) 404: unknown stored structure
    ├── NotInStructureError(NotFoundError, DataError)    404: a series that is not a node of the structure
    ├── StructureExistsError(ConflictError)             409: a structure of that name is stored
    └── InvalidStructureError(InvalidParameterError, DataError)  422: a bad structure definition
        └── UnknownStructureIdError                     422: a member id with no stored series

``IngestError`` is also a ``ValueError`` (through ``InvalidSeriesError``), and the
not-found errors are ``LookupError``.
"""

from __future__ import annotations

from forecasting.exceptions import InvalidParameterError, InvalidSeriesError, NotFoundError

__all__ = [
    "ConflictError",
    "DataError",
    "ForecastNotFoundError",
    "IngestError",
    "InvalidStructureError",
    "NotInStructureError",
    "SeriesNotFoundError",
    "StorageUnavailableError",
    "StructureExistsError",
    "StructureNotFoundError",
    "UnknownStructureIdError",
    "UploadLimitError",
    "VintageNotFoundError",
]


class DataError(Exception):
    """Base class of every error raised by :mod:`data`."""

    code = "data_error"


class ConflictError(DataError):
    """A write conflicts with another write or with the stored state of the series."""

    code = "conflict"


class StorageUnavailableError(DataError):
    """The database cannot be reached or refused the connection."""

    code = "storage_unavailable"


class IngestError(InvalidSeriesError, DataError):
    """An uploaded file or frame failed validation.

    Parameters
    ----------
    message : str
        The full human-readable message (it already names line, column and value).
    line : int, optional
        1-based line number in the file, as an editor shows it (row number for Excel).
    column : int, optional
        1-based column number.
    column_name : str, optional
        Header of that column.
    value : str, optional
        The offending value, as read.
    code : str, optional
        The code of the series parser's rule that failed (``duplicate_period``...), so a
        file gives the same code as a JSON body; default ``invalid_input`` for problems of
        the file itself (size, encoding, layout).
    """

    code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        column_name: str | None = None,
        value: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, value=value)
        self.message = message
        if code is not None:
            self.code = code
        self.line = line
        self.column = column
        self.column_name = column_name
        self.value = value

    def details(self) -> dict[str, object]:
        """Location of the problem, for an error body's ``details``."""
        return {
            "line": self.line,
            "column": self.column,
            "column_name": self.column_name,
            "value": self.value,
        }


class UploadLimitError(IngestError):
    """An upload holds more columns, series or cells than a cap allows.

    Parameters
    ----------
    message : str
        Names the limit, the setting that raises it and what the file holds.
    limit : str
        Which cap: ``max_upload_columns``, ``max_upload_series`` or ``max_upload_cells``.
    maximum : int
        The cap.
    found : int
        What the upload holds (or would hold: caps are checked before the table is built).
    line : int, optional
        Where the excess shows (the header line for columns).
    """

    code = "upload_too_large"

    def __init__(self, message: str, *, limit: str, maximum: int, found: int, line: int | None = None) -> None:
        super().__init__(message, line=line)
        self.limit = limit
        self.maximum = maximum
        self.found = found

    def details(self) -> dict[str, object]:
        """The limit, its value and what the upload holds."""
        return {
            "limit": self.limit,
            "setting": f"TRADECAST_{self.limit.upper()}",
            "maximum": self.maximum,
            "found": self.found,
            "line": self.line,
        }


class SeriesNotFoundError(NotFoundError, DataError):
    """No series is stored under this id."""

    code = "series_not_found"


class VintageNotFoundError(NotFoundError, DataError):
    """No vintage matches the id or the ``as_of`` time asked for."""

    code = "vintage_not_found"


class ForecastNotFoundError(NotFoundError, DataError):
    """No archived forecast has this id."""

    code = "forecast_not_found"


class StructureNotFoundError(NotFoundError, DataError):
    """No structure is stored under this name."""

    code = "structure_not_found"


class NotInStructureError(NotFoundError, DataError):
    """The series asked for is not a node (hierarchy) or a component (composition) of the structure."""

    code = "not_in_structure"


class StructureExistsError(ConflictError):
    """A structure of this name is already stored (delete it first to redefine it)."""

    code = "structure_exists"


class InvalidStructureError(InvalidParameterError, DataError):
    """A structure definition is malformed (kind, members, method or model)."""

    code = "invalid_structure"


class UnknownStructureIdError(InvalidStructureError):
    """A structure names a member id under which no series is stored."""

    code = "unknown_structure_id"
