"""Stored series: create (JSON or file upload), list, read, vintages, delete."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from api.convert import diff_to_read, meta_to_read, observations_to_series, stored_to_read, vintage_to_read
from api.deps import ExistingSeriesId, ServiceDep, SettingsDep, StoreDep
from api.errors import detailed
from api.schemas import ErrorRead, Instant, SeriesCreate, SeriesPage, SeriesRead, VintageDiffRead, VintagesPage
from api.service.admission import UploadWorker
from api.settings import StoreSection
from data import IngestError, SeriesMeta, Store, VintageInfo, load_series
from data.ingest import LAYOUTS
from data.publications import SCALES

__all__ = ["router"]

router = APIRouter(prefix="/series", tags=["series"])

_UPLOAD_FORMATS = ("csv", "xlsx", "json")
#: The spellings of an on/off form field, exactly as the OpenAPI form lists them (Python's
#: ``str(True)`` included: ``requests`` sends a bool form value so).
_FLAG_TEXTS = {
    "true": True,
    "True": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "False": False,
    "0": False,
    "no": False,
    "off": False,
}
_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


#: The upload form's fields, as OpenAPI shows them.
_UPLOAD_FORM_PROPERTIES: dict[str, Any] = {
    "file": {"type": "string", "format": "binary"},
    "format": {"type": "string", "enum": list(_UPLOAD_FORMATS)},
    "frequency": {"type": "string", "enum": ["annual", "quarterly", "monthly"]},
    "kind": {"type": "string", "enum": ["level", "share"]},
    "release": {"type": "string", "maxLength": 100},
    "series_id": {
        "type": "string",
        "pattern": r"^[A-Za-z0-9_.\-]{1,100}$",
        "description": "Id of a one-series file whose value header describes the "
        "values ('Value (USD millions)') instead of being an id.",
    },
    "name": {"type": "string", "maxLength": 200, "description": "Name of every series."},
    "unit": {
        "type": "string",
        "maxLength": 50,
        "description": "Unit of every series; one naming a scale ('USD bn') is refused "
        "when the values are scaled to units.",
    },
    "allow_negative": {
        "type": "string",
        "enum": list(_FLAG_TEXTS),
        "default": "false",
        "description": "Accept negative level values (balances): true or false (also 1/0, yes/no, on/off); "
        "default: refused.",
    },
    "layout": {
        "type": "string",
        "enum": list(LAYOUTS),
        "description": "Table layout; 'auto' recognises UN Comtrade, IMF and Eurostat files from their headers.",
    },
    "sheet": {"type": "string", "maxLength": 100, "description": "Excel sheet name."},
    "header_row": {
        "type": "integer",
        "minimum": 1,
        "description": "Line (CSV) or row (Excel) of the column names, 1-based.",
    },
    "delimiter": {
        "type": "string",
        "enum": [",", ";", "\t"],
        "description": "CSV field separator; default: sniffed from the header line.",
    },
    "decimal": {
        "type": "string",
        "enum": [".", ","],
        "description": "CSV decimal mark; default ',' after ';' separators, else '.'.",
    },
    "scale": {
        "type": "string",
        "enum": list(SCALES),
        "description": "Scale the values are written in; stored in units. Default: "
        "read from the value header ('Value (USD millions)'), else units.",
    },
    "published_at": {
        "type": "string",
        "format": "date-time",
        "description": "When the figures were published; reads 'as_of' go by it.",
    },
}


def _request_body_schema() -> dict[str, Any]:
    schema = SeriesCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": _UPLOAD_FORM_PROPERTIES,
                    }
                },
            },
        }
    }


def _page(vintages: list[VintageInfo], response: Response) -> VintagesPage:
    """201 when a vintage was stored, 200 when every series held the same data already."""
    if not any(v.created for v in vintages):
        response.status_code = status.HTTP_200_OK
    return VintagesPage(data=[vintage_to_read(v) for v in vintages], count=len(vintages))


def _save_json_body(store: Store, raw: bytes) -> list[VintageInfo]:
    """Validate a JSON ``SeriesCreate`` body and store it (in an upload thread)."""
    try:
        body = SeriesCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "the body must be JSON or a multipart upload", "type": "json_invalid"}]
        ) from None
    return _save_json(store, body)


def _save_json(store: Store, body: SeriesCreate) -> list[VintageInfo]:
    meta = SeriesMeta(
        series_id=body.series_id,
        name=body.name,
        frequency=body.frequency,
        unit=body.unit,
        kind=body.kind,
        tags=dict(body.tags),
    )
    y = observations_to_series(
        body.data, body.frequency, allow_gaps=True, kind=body.kind, allow_negative=body.allow_negative
    )
    y.name = body.series_id
    vintage = store.series.save_series(
        meta, y, release=body.release, skip_unchanged=True, published_at=body.published_at
    )
    return [vintage]


def _header_row(fields: dict[str, str]) -> int:
    text = fields.get("header_row") or "1"
    if not text.strip().isdigit() or int(text) < 1:
        raise detailed(
            IngestError(f"header_row must be a whole number >= 1 (the line of the column names); got {text!r}."),
            {"field": "header_row", "value": text},
        )
    return int(text)


def _form_text(fields: dict[str, str], key: str, max_length: int) -> str | None:
    text = fields.get(key) or None
    if text is not None and len(text) > max_length:
        raise detailed(
            IngestError(f"{key} has {len(text)} characters; at most {max_length} are allowed."),
            {"field": key, "value": text[:50]},
        )
    return text


def _form_flag(fields: dict[str, str], key: str) -> bool:
    text = fields.get(key)
    if text is None:
        return False
    if text not in _FLAG_TEXTS:
        raise detailed(
            IngestError(f"{key} must be true or false (also 1/0, yes/no, on/off); got {text[:20]!r}."),
            {"field": key, "value": text[:50]},
        )
    return _FLAG_TEXTS[text]


def _published_at(fields: dict[str, str]) -> datetime | None:
    text = fields.get("published_at")
    if text is None:
        return None
    if not text.strip():
        # Given but blank (an unfilled form field or `-F published_at=`): storing the vintage as
        # unpublished would silently drop the date the client meant to give.
        raise detailed(
            IngestError("published_at is empty; give ISO 8601 such as 2024-01-12T00:00:00Z, or leave the field out."),
            {"field": "published_at", "value": text},
        )
    try:
        return _INSTANT.validate_python(text)
    except ValidationError:
        raise detailed(
            IngestError(f"published_at {text!r} is not a date-time; give ISO 8601 such as 2024-01-12T00:00:00Z."),
            {"field": "published_at", "value": text},
        ) from None


def _save_upload(
    store: Store, raw: bytes, filename: str, fields: dict[str, str], section: StoreSection
) -> list[VintageInfo]:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    fmt = fields.get("format") or (ext if ext in _UPLOAD_FORMATS else None)
    if fmt is not None and fmt not in _UPLOAD_FORMATS:
        raise detailed(
            IngestError(f"unknown upload format {fmt!r}; use csv, xlsx or json."),
            {"field": "format", "value": fmt},
        )
    result = load_series(
        raw,
        format=fmt,
        frequency=fields.get("frequency") or None,
        kind=fields.get("kind") or None,
        series_id=fields.get("series_id") or None,
        name=_form_text(fields, "name", 200),
        unit=_form_text(fields, "unit", 50),
        allow_negative=_form_flag(fields, "allow_negative"),
        max_bytes=section.max_upload_bytes,
        limits=section.upload_limits(),
        layout=fields.get("layout") or "auto",
        sheet=_form_text(fields, "sheet", 100),
        header_row=_header_row(fields),
        delimiter=fields.get("delimiter") or None,
        decimal=fields.get("decimal") or None,
        scale=fields.get("scale") or None,
    )
    return store.series.save_ingested(
        result,
        release=_form_text(fields, "release", 100),
        skip_unchanged=True,
        published_at=_published_at(fields),
    )


@router.post(
    "",
    response_model=VintagesPage,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_request_body_schema(),
    responses={
        200: {"model": VintagesPage, "description": "Every series already held these data: nothing stored."},
        409: {"model": ErrorRead},
        415: {"model": ErrorRead},
    },
)
async def create_series(
    request: Request, response: Response, store: StoreDep, service: ServiceDep, settings: SettingsDep
) -> VintagesPage:
    """Store a series (JSON) or every series of a CSV/Excel/JSON upload as new vintages (200: data unchanged)."""
    vintages = await _create_series(request, store, settings.store)
    for vintage in vintages:
        service.forget_vintages(vintage.series_id)
    return _page(vintages, response)


async def _create_series(request: Request, store: Store, section: StoreSection) -> list[VintageInfo]:
    # Admitted before the body is read, so a refusal (503 overloaded, Retry-After) costs
    # nothing; parsing and storing run in the upload threads, never in the shared threadpool
    # (nor on the event loop: a large JSON body is validated there too).
    uploads: UploadWorker = request.app.state.uploads
    with uploads.admit() as slot:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "multipart/form-data":
            return await slot.run(_save_json_body, store, await request.body())
        async with request.form() as form:  # closes the spooled upload files
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise RequestValidationError(
                    [{"loc": ("body", "file"), "msg": "a file part named 'file' is required", "type": "missing"}]
                )
            raw = await upload.read()
            filename = upload.filename or ""
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return await slot.run(_save_upload, store, raw, filename, fields, section)


@router.get("", response_model=SeriesPage)
def read_series_page(
    store: StoreDep,
    tag: Annotated[
        list[str] | None,
        Query(description="Filter 'key:value' (repeatable; all must match).", max_length=20),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> SeriesPage:
    """List stored series (paged), optionally filtered by tags."""
    tags = dict(t.partition(":")[::2] for t in tag or [])
    metas, total = store.series.list_series(tags=tags or None, limit=limit, offset=offset)
    return SeriesPage(data=[meta_to_read(m) for m in metas], count=total)


@router.get("/{series_id}", response_model=SeriesRead, responses={404: {"model": ErrorRead}})
def read_series(
    series_id: ExistingSeriesId,
    store: StoreDep,
    as_of: Annotated[
        Instant | None,
        Query(description="The vintage current at this time: published by then (else stored by then)."),
    ] = None,
) -> SeriesRead:
    """One series with the observations of its latest vintage (or the one current at ``as_of``)."""
    return stored_to_read(store.series.read_series(series_id, as_of=as_of))


@router.get("/{series_id}/vintages", response_model=VintagesPage, responses={404: {"model": ErrorRead}})
def read_vintages(series_id: ExistingSeriesId, store: StoreDep) -> VintagesPage:
    """Every stored vintage of a series, oldest first."""
    vintages = store.series.list_vintages(series_id)
    return VintagesPage(data=[vintage_to_read(v) for v in vintages], count=len(vintages))


_VINTAGE_REF = "The series' vintage number (1, 2, ... as listed), else a vintage id of this series."


@router.get(
    "/{series_id}/vintages/diff",
    response_model=VintageDiffRead,
    responses={404: {"model": ErrorRead}, 422: {"model": ErrorRead}},
)
def read_vintage_diff(
    series_id: ExistingSeriesId,
    store: StoreDep,
    from_vintage: Annotated[int, Query(alias="from", ge=1, le=2**62, description=_VINTAGE_REF + " The old data.")],
    to_vintage: Annotated[int, Query(alias="to", ge=1, le=2**62, description=_VINTAGE_REF + " The new data.")],
) -> VintageDiffRead:
    """Periods added, removed or changed from one vintage of a series to another."""
    from_vintage = store.series.resolve_vintage(series_id, from_vintage)
    to_vintage = store.series.resolve_vintage(series_id, to_vintage)
    old = store.series.read_series(series_id, vintage_id=from_vintage).vintage
    new = store.series.read_series(series_id, vintage_id=to_vintage).vintage
    return diff_to_read(series_id, old, new, store.series.diff_vintages(series_id, from_vintage, to_vintage))


@router.delete(
    "/{series_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": ErrorRead}},
)
def delete_series(series_id: ExistingSeriesId, store: StoreDep, service: ServiceDep) -> Response:
    """Delete a series and its vintages (archived forecasts are kept)."""
    store.series.delete_series(series_id)
    service.forget_vintages(series_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
