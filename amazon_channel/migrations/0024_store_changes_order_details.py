"""The store marks follow what Amazon Order Details and the store dashboard show too
(amazon_channel/stores/changes.py): an order's items, packages and history, its Commerce
order, the store's history, and the names of the users in those histories."""

from django.apps import apps as global_apps
from django.conf import settings
from django.db import migrations

# Tables with an order_id: the order's store is marked. The orders are looked up one by one
# by an index (LATERAL ... LIMIT 1, which the planner cannot turn into a join): a join with a
# transition table, whose size the planner guesses, was once planned as a scan of every order
# (the naive import of bench/import_throughput.py three times slower).
ORDER_TABLES = (
    "amazon_channel_amazonorderitem",
    "amazon_channel_amazonorderpackage",
    "amazon_channel_amazonorderevent",
)
EVENTS = (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD"))
FUNCTIONS = (
    """
CREATE FUNCTION amazon_channel_store_changed_by_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO amazon_channel_storechange (store_id, weight)
    SELECT DISTINCT o.store_id, 1
    FROM (SELECT DISTINCT order_id FROM changed_rows) c
    CROSS JOIN LATERAL (
        SELECT store_id FROM amazon_channel_amazonorder WHERE id = c.order_id LIMIT 1
    ) o;
    RETURN NULL;
END
$$
""",
    # A Commerce order marks the store of the Amazon order it was made from.
    """
CREATE FUNCTION amazon_channel_store_changed_by_commerce_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO amazon_channel_storechange (store_id, weight)
    SELECT DISTINCT o.store_id, 1
    FROM changed_rows c
    CROSS JOIN LATERAL (
        SELECT store_id FROM amazon_channel_amazonorder WHERE commerce_order_id = c.id LIMIT 1
    ) o;
    RETURN NULL;
END
$$
""",
)
COMMERCE_ORDER_TABLE = "commerce_orders_commerceorder"
# The store dashboard's history has a store_id: 0023's function.
STORE_EVENT_TABLE = "amazon_channel_storeevent"


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for function in FUNCTIONS:
        schema_editor.execute(function)
    for table, function in [
        *((table, "amazon_channel_store_changed_by_order") for table in ORDER_TABLES),
        (COMMERCE_ORDER_TABLE, "amazon_channel_store_changed_by_commerce_order"),
        (STORE_EVENT_TABLE, "amazon_channel_store_changed"),
    ]:
        for event, rows in EVENTS:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_{event}_store_changed AFTER {event.upper()} ON {table} "
                f"REFERENCING {rows} TABLE AS changed_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {function}()"
            )
    # A user's new name is shown in every store's order histories: every store is marked.
    user = apps.get_model(settings.AUTH_USER_MODEL)
    # A historical model has no USERNAME_FIELD: the class of the project has.
    username_field = global_apps.get_model(settings.AUTH_USER_MODEL).USERNAME_FIELD
    name = user._meta.get_field(username_field).column
    schema_editor.execute(
        f"""
CREATE FUNCTION amazon_channel_store_changed_by_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.{name} IS DISTINCT FROM o.{name}
    ) THEN
        INSERT INTO amazon_channel_storechange (store_id, weight)
        SELECT id, 1 FROM amazon_channel_store;
    END IF;
    RETURN NULL;
END
$$
"""
    )
    schema_editor.execute(
        f"CREATE TRIGGER {user._meta.db_table}_update_store_changed AFTER UPDATE "
        f"ON {user._meta.db_table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION amazon_channel_store_changed_by_user()"
    )


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    user = apps.get_model(settings.AUTH_USER_MODEL)
    schema_editor.execute(
        f"DROP TRIGGER {user._meta.db_table}_update_store_changed ON {user._meta.db_table}"
    )
    for table in (*ORDER_TABLES, COMMERCE_ORDER_TABLE, STORE_EVENT_TABLE):
        for event, _rows in EVENTS:
            schema_editor.execute(f"DROP TRIGGER {table}_{event}_store_changed ON {table}")
    for function in ("order", "commerce_order", "user"):
        schema_editor.execute(f"DROP FUNCTION amazon_channel_store_changed_by_{function}()")


class Migration(migrations.Migration):
    dependencies = [
        ("amazon_channel", "0023_store_changes"),
        ("commerce_orders", "0008_layout_purchase_date_unaccent_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(triggers_create, triggers_drop)]
