"""Regenerate the bundled sample CSVs from the compiled domain files (run by hand, not at runtime).

The samples are published figures, retyped with the source of every figure:
``python -m data.samples._generate /path/to/shared/data/domain``. The compiled files
themselves are not part of the package.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
COLUMNS = ["unique_id", "ds", "y", "name", "unit", "kind", "reporter", "partner", "flow", "currency", "source", "note"]


def _trade_rows(
    frame: pd.DataFrame, ds: pd.Series, suffix: str, label: str, columns: dict[str, str], status: pd.Series
) -> list[dict[str, object]]:
    flows = {
        "total": ("cn_ru_trade_total", "China-Russia trade, total"),
        "export": ("cn_ru_exports", "China's exports to Russia"),
        "import": ("cn_ru_imports", "China's imports from Russia"),
    }
    rows = []
    for flow, column in columns.items():
        stem, name = flows[flow]
        for i in frame.index:
            value = frame.at[i, column]
            if pd.isna(value):
                continue
            rows.append(
                {
                    "unique_id": f"{stem}_{suffix}",
                    "ds": ds[i],
                    "y": float(value),
                    "name": f"{name} ({label}, China customs/GACC)",
                    "unit": "USD bn",
                    "kind": "level",
                    "reporter": "CN",
                    "partner": "RU",
                    "flow": flow,
                    "currency": "USD",
                    "source": str(frame.at[i, "src"]).replace("\n", " "),
                    "note": status[i],
                }
            )
    return rows


def annual(domain: Path) -> pd.DataFrame:
    raw = pd.read_csv(domain / "china_russia_annual_trade_compiled.csv")
    raw = raw[raw["year"] >= 1996].rename(columns={"gacc_source": "src"})
    status = raw["gacc_status"].fillna("").astype(str)
    rows = _trade_rows(
        raw,
        raw["year"].astype(str),
        "annual",
        "annual",
        {
            "total": "gacc_total_usd_bn",
            "export": "gacc_cn_exports_to_ru_usd_bn",
            "import": "gacc_cn_imports_from_ru_usd_bn",
        },
        status,
    )
    return pd.DataFrame(rows, columns=COLUMNS)


def monthly(domain: Path) -> pd.DataFrame:
    raw = pd.read_csv(domain / "china_russia_monthly_and_ytd_press_gacc.csv").rename(columns={"source": "src"})
    cols = {"total": "total_usd_bn", "export": "cn_exports_to_ru_usd_bn", "import": "cn_imports_from_ru_usd_bn"}
    single = raw["period"].str.fullmatch(r"\d{4}-\d{2}")
    month = raw[raw["period_type"].isin(["month", "derived_month"]) & single]
    note = (month["period_type"] + " " + month["note"].fillna("")).str.strip()
    rows = _trade_rows(month, month["period"], "monthly", "monthly", cols, note)
    # Year-to-date figures "2023-01..05" sit at their last month; "2023-01..02" derived
    # (Jan+Feb combined) is a year-to-date figure through February.
    ytd = raw[raw["period"].str.fullmatch(r"\d{4}-01\.\.\d{2}")]
    end = ytd["period"].str.replace(r"^(\d{4})-01\.\.(\d{2})$", r"\1-\2", regex=True)
    note = (ytd["period_type"] + " Jan.." + end.str[-2:] + " " + ytd["note"].fillna("")).str.strip()
    rows += _trade_rows(ytd, end, "ytd", "year to date", cols, note)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["name"] = frame["name"].str.replace("(year to date,", "(cumulative year to date,", regex=False)
    return frame


def settlement(domain: Path) -> pd.DataFrame:
    raw = pd.read_csv(domain / "russia_settlement_currency_and_fx_market_shares.csv")
    keep = {"CNY", "RUB", "USD", "EUR", "USD+EUR"}
    rows = []
    seen: set[tuple[str, str]] = set()
    for _, r in raw.iterrows():
        measure, currency, period = r["measure"], r["currency"], str(r["period"])
        if currency not in keep:
            continue
        if measure in ("export_settlements", "import_settlements"):
            flow = measure.split("_")[0]
            stem, what = f"ru_{flow}_settlement_share", f"Share of Russia's {flow} settlements in"
        elif measure in ("payments_RU_exports_to_CN", "payments_RU_imports_from_CN"):
            flow = "export" if "exports" in measure else "import"
            stem, what = f"ru_cn_{flow}_payment_share", f"Share of Russia-China {flow} payments in"
        else:
            continue  # FX-market shares: different definitions (spot, OTC, annual); not bundled
        annual_period = re.fullmatch(r"\d{4}", period) is not None
        sid = f"{stem}_{currency.lower().replace('+', '_')}" + ("_annual" if annual_period else "")
        if (sid, period) in seen:
            continue  # a second figure for the same month on another basis; the first (CBR FMRR) is kept
        seen.add((sid, period))
        rows.append(
            {
                "unique_id": sid,
                "ds": period,
                "y": round(float(r["share_pct"]) / 100, 6),
                "name": f"{what} {currency} ({'annual' if annual_period else 'monthly'}, fraction)",
                "unit": "fraction",
                "kind": "share",
                "reporter": "RU",
                "partner": "CN" if stem.startswith("ru_cn") else "world",
                "flow": flow,
                "currency": currency,
                "source": r["source"],
                "note": "" if pd.isna(r["note"]) else str(r["note"]),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["unique_id", "ds"], kind="stable")


def main(domain: Path) -> None:
    annual(domain).to_csv(HERE / "cn_ru_trade_annual.csv", index=False)
    monthly(domain).to_csv(HERE / "cn_ru_trade_monthly.csv", index=False)
    settlement(domain).to_csv(HERE / "ru_settlement_currency_shares.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data" / "domain")
