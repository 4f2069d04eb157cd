"""Stored series: create (JSON or file upload), list, read, vintages, delete."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.convert import meta_to_read, observations_to_series, stored_to_read, vintage_to_read
from api.deps import ExistingSeriesId, ServiceDep, SettingsDep, StoreDep
from api.errors import detailed
from api.schemas import ErrorRead, Instant, SeriesCreate, SeriesPage, SeriesRead, VintagesPage
from api.service.admission import UploadWorker
from api.settings import StoreSection
from data import IngestError, SeriesMeta, Store, load_series

__all__ = ["router"]

router = APIRouter(prefix="/series", tags=["series"])

_UPLOAD_FORMATS = ("csv", "xlsx", "json")


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
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "format": {"type": "string", "enum": list(_UPLOAD_FORMATS)},
                            "frequency": {"type": "string", "enum": ["annual", "quarterly", "monthly"]},
                            "kind": {"type": "string", "enum": ["level", "share"]},
                            "release": {"type": "string", "maxLength": 100},
                            "series_id": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]{1,100}$"},
                            "unit": {"type": "string", "maxLength": 50},
                        },
                    }
                },
            },
        }
    }


def _save_json_body(store: Store, raw: bytes) -> VintagesPage:
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


def _save_json(store: Store, body: SeriesCreate) -> VintagesPage:
    meta = SeriesMeta(
        series_id=body.series_id,
        name=body.name,
        frequency=body.frequency,
        unit=body.unit,
        kind=body.kind,
        tags=dict(body.tags),
    )
    y = observations_to_series(body.data, body.frequency, allow_gaps=True, kind=body.kind)
    y.name = body.series_id
    vintage = store.save_series(meta, y, release=body.release)
    return VintagesPage(data=[vintage_to_read(vintage)], count=1)


def _save_upload(
    store: Store, raw: bytes, filename: str, fields: dict[str, str], section: StoreSection
) -> VintagesPage:
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
        unit=fields.get("unit") or None,
        max_bytes=section.max_upload_bytes,
        limits=section.upload_limits(),
    )
    vintages = store.save_ingested(result, release=fields.get("release") or None)
    return VintagesPage(data=[vintage_to_read(v) for v in vintages], count=len(vintages))


@router.post(
    "",
    response_model=VintagesPage,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_request_body_schema(),
    responses={409: {"model": ErrorRead}, 415: {"model": ErrorRead}},
)
async def create_series(request: Request, store: StoreDep, service: ServiceDep, settings: SettingsDep) -> VintagesPage:
    """Store a series (JSON) or every series of a CSV/Excel/JSON upload as new vintages."""
    page = await _create_series(request, store, settings.store)
    for vintage in page.data:
        service.forget_vintages(vintage.series_id)
    return page


async def _create_series(request: Request, store: Store, section: StoreSection) -> VintagesPage:
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
    metas, total = store.list_series(tags=tags or None, limit=limit, offset=offset)
    return SeriesPage(data=[meta_to_read(m) for m in metas], count=total)


@router.get("/{series_id}", response_model=SeriesRead, responses={404: {"model": ErrorRead}})
def read_series(
    series_id: ExistingSeriesId,
    store: StoreDep,
    as_of: Annotated[Instant | None, Query(description="The vintage current at this time.")] = None,
) -> SeriesRead:
    """One series with the observations of its latest vintage (or the one current at ``as_of``)."""
    return stored_to_read(store.read_series(series_id, as_of=as_of))


@router.get("/{series_id}/vintages", response_model=VintagesPage, responses={404: {"model": ErrorRead}})
def read_vintages(series_id: ExistingSeriesId, store: StoreDep) -> VintagesPage:
    """Every stored vintage of a series, oldest first."""
    vintages = store.list_vintages(series_id)
    return VintagesPage(data=[vintage_to_read(v) for v in vintages], count=len(vintages))


@router.delete(
    "/{series_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": ErrorRead}},
)
def delete_series(series_id: ExistingSeriesId, store: StoreDep, service: ServiceDep) -> Response:
    """Delete a series and its vintages (archived forecasts are kept)."""
    store.delete_series(series_id)
    service.forget_vintages(series_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
