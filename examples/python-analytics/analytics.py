#!/usr/bin/env python3
"""A campaign analytics backend that reads its numbers from prescient.

When campaigns are scheduled to launch it reports `campaign_launch_scheduled` events, which the
shipped rules (config/task-types.yaml) fan out to campaign_analytics, roas_prediction and
variant_scoring; the mesh computes them ahead of time. The backend then reads all three for every
campaign in one LookupMany and prints a panel. Its own portfolio summary is cached under a
semantic key (the campaign list itself), so a second request is a cache hit.

    python3 examples/python-analytics/analytics.py --addr 127.0.0.1:50051
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

try:
    import prescient_client  # noqa: F401
except ImportError:
    # Run from a checkout without installing the client: use the one next door.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))

from prescient_client import Key, LookupResult, PrescientClient, PrescientError

# What the campaign service knows when a launch is scheduled: the inputs of roas_prediction
# (budget ... competition; audience in thousands) and of variant_scoring for the lead creative
# (length in characters ... emoji_count; readability 0-100), in the example models' ranges.
CAMPAIGNS: dict[str, dict[str, float]] = {
    "spring-sale": {
        "budget": 5000, "bid": 1.1, "audience_size": 120, "historical_roas": 2.4,
        "ctr": 0.035, "conversion_rate": 0.021, "seasonality": 1.1, "competition": 0.4,
        "length": 48, "sentiment": 0.7, "novelty": 0.6, "brand_fit": 0.9, "readability": 80, "emoji_count": 1,
    },
    "summer-launch": {
        "budget": 12000, "bid": 1.6, "audience_size": 400, "historical_roas": 1.8,
        "ctr": 0.022, "conversion_rate": 0.015, "seasonality": 1.4, "competition": 0.7,
        "length": 90, "sentiment": 0.4, "novelty": 0.8, "brand_fit": 0.6, "readability": 55, "emoji_count": 3,
    },
    "brand-awareness": {
        "budget": 3000, "bid": 0.6, "audience_size": 900, "historical_roas": 0.9,
        "ctr": 0.012, "conversion_rate": 0.01, "seasonality": 0.9, "competition": 0.2,
        "length": 30, "sentiment": 0.9, "novelty": 0.3, "brand_fit": 1.0, "readability": 90, "emoji_count": 0,
    },
}  # fmt: skip
TASK_TYPES = ("campaign_analytics", "roas_prediction", "variant_scoring")


def schedule_launches(client: PrescientClient, tenant: str, user: str) -> int:
    queued = 0
    for campaign, features in CAMPAIGNS.items():
        r = client.trigger("campaign_launch_scheduled", tenant, campaign, user_id=user, features=features)
        queued += sum(len(ids) for ids in r.queued.values())
    return queued


def read_panel(client: PrescientClient, tenant: str, wait_s: float) -> dict[str, dict[str, LookupResult]]:
    """Every campaign's three results, waiting up to wait_s for the precomputed ones to land."""
    keys = [f"{tenant}/{t}/{c}" for c in CAMPAIGNS for t in TASK_TYPES]
    deadline = time.monotonic() + wait_s
    while True:
        results = client.lookup_many(keys)
        if all(r.hit for r in results) or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    it = iter(results)
    return {c: {t: next(it) for t in TASK_TYPES} for c in CAMPAIGNS}


def row(campaign: str, found: dict[str, LookupResult]) -> dict[str, Any]:
    analytics = found["campaign_analytics"].value or {}
    roas = found["roas_prediction"].value
    score = found["variant_scoring"].value
    return {
        "campaign": campaign,
        "ctr": analytics.get("ctr"),
        "conversions": analytics.get("conversions"),
        "reported_roas": analytics.get("roas"),
        "predicted_roas": round(roas["roas"].data[0], 3) if roas else None,
        "variant_score": round(score["score"].data[0], 3) if score else None,
        "fresh": all(r.outcome == "hit" for r in found.values()),
    }


def portfolio(rows: list[dict[str, Any]]) -> dict[str, Any]:
    predicted = [r for r in rows if r["predicted_roas"] is not None]
    best = max(predicted, key=lambda r: r["predicted_roas"]) if predicted else None
    return {
        "campaigns": len(rows),
        "conversions": sum(r["conversions"] or 0 for r in rows),
        "mean_predicted_roas": round(sum(r["predicted_roas"] for r in predicted) / len(predicted), 3) if predicted else None,
        "best_campaign": best["campaign"] if best else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default="127.0.0.1:50051", help="the mesh (npx prescient up)")
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--user", default="analyst-1", help="who schedules the launches")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds to wait for precomputed results")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    try:
        with PrescientClient(args.addr, deadline_s=5) as client:
            queued = schedule_launches(client, args.tenant, args.user)
            panel = read_panel(client, args.tenant, args.wait)
            rows = [row(c, found) for c, found in panel.items()]
            # The summary is derived data: cache it under the inputs it was computed from, so
            # the same campaign list (in any order) reads it back instead of recomputing.
            summary_key = Key(args.tenant, "dashboard_data", inputs={"panel": "portfolio", "rows": rows})
            computed: list[bool] = []
            summary = client.get_or_compute(
                summary_key, lambda: computed.append(True) or portfolio(rows), tags=["portfolio"]
            )
    except PrescientError as e:
        print(f"prescient: {e}", file=sys.stderr)
        return 1

    source = "computed" if computed else "cached"
    if args.json:
        print(json.dumps({"queued": queued, "rows": rows, "summary": summary, "summary_source": source}, indent=2))
        return 0
    print(f"{'campaign':<16} {'ctr':>7} {'conversions':>11} {'roas':>6} {'predicted roas':>14} {'variant':>7}")
    for r in rows:
        cells = [r["ctr"], r["conversions"], r["reported_roas"], r["predicted_roas"], r["variant_score"]]
        ctr, conversions, roas, predicted, variant = ("-" if x is None else x for x in cells)
        print(f"{r['campaign']:<16} {ctr:>7} {conversions:>11} {roas:>6} {predicted:>14} {variant:>7}")
    print(
        f"portfolio: {summary['campaigns']} campaigns, {summary['conversions']} conversions, "
        f"mean predicted ROAS {summary['mean_predicted_roas']}, best {summary['best_campaign']} "
        f"(summary {source})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
