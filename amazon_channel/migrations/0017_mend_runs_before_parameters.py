"""Runs left by the code before runs kept their searchOrders parameters (commit 8a00283): a run
with a page token and no stored parameters gets the query that code sent for its first page, so
that it resumes with the same parameters (Amazon refuses a token whose other parameters
differ). Frozen here, as data migrations are: the code no longer knows that query."""

from django.db import migrations

# What searchOrders' first page asked for before the parameters were stored.
PRE_PARAMETERS_INCLUDED_DATA = [
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "FULFILLMENT",
    "PACKAGES",
    "CANCELLATION",
]


def _iso8601(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def runs_before_parameters_fill(apps, schema_editor):
    SyncRun = apps.get_model("amazon_channel", "SyncRun")
    runs = (
        SyncRun.objects.filter(status="running", search_parameters={})
        .exclude(pagination_token="")
        .select_related("store")
    )
    for run in runs:
        run.search_parameters = {
            "lastUpdatedAfter": _iso8601(run.window_start),
            "lastUpdatedBefore": _iso8601(run.window_end),
            "marketplaceIds": [run.store.marketplace_id],
            "includedData": list(PRE_PARAMETERS_INCLUDED_DATA),
            "maxResultsPerPage": 100,
        }
        run.save(update_fields=["search_parameters"])


class Migration(migrations.Migration):
    dependencies = [("amazon_channel", "0016_layout_buyer_search_and_sort")]

    operations = [
        migrations.RunPython(runs_before_parameters_fill, migrations.RunPython.noop),
    ]
