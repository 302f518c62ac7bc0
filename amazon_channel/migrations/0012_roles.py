"""The roles: Django groups bundling the permissions of dashboard/permissions.py.

Frozen here as a data migration should be: a later change to a role is a new migration. Users get
a role in Django admin (Users > Groups); README.md describes what each role can do.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

SANDBOX = "seller_central_sandbox"

MERCHANT = "Merchant"
STORE_MANAGER = "Store manager"
OPERATIONS = "Operations"

ROLES = {
    # Handles orders: sees stores and orders, cancels and corrects Amazon orders, and invoices,
    # ships, refunds, holds, cancels and comments Commerce orders.
    MERCHANT: [
        "amazon_channel.view_store",
        "amazon_channel.view_amazonorder",
        "amazon_channel.change_amazonorder",
        "amazon_channel.cancel_amazonorder",
        "commerce_orders.view_commerceorder",
        "commerce_orders.change_commerceorder",
        "commerce_orders.add_invoice",
        "commerce_orders.add_shipment",
        "commerce_orders.add_creditmemo",
    ],
    # Connects and configures stores; sees no buyer data.
    STORE_MANAGER: [
        "amazon_channel.view_store",
        "amazon_channel.add_store",
        "amazon_channel.change_store",
        "amazon_channel.sync_store",
    ],
    # Keeps the integration running: sees stores, sync logs and orders (read-only), syncs, and
    # drives the Seller Central sandbox where it is installed.
    OPERATIONS: [
        "amazon_channel.view_store",
        "amazon_channel.sync_store",
        "amazon_channel.view_amazonorder",
        "commerce_orders.view_commerceorder",
        f"{SANDBOX}.control_sandbox",
    ],
}


def sandbox_permission_create(apps, using):
    """The sandbox's control permission, made here: the sandbox's migrations cannot be a
    dependency (the app is installed only where it is enabled, so a production database
    migrated without it would otherwise refuse it later). Its own post_migrate finds it made."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.using(using).get_or_create(
        app_label=SANDBOX, model="sandboxseller"
    )
    Permission.objects.using(using).get_or_create(
        content_type=content_type,
        codename="control_sandbox",
        defaults={"name": "Can drive the Seller Central sandbox (orders, faults, plans)"},
    )


def roles_create(apps, schema_editor):
    using = schema_editor.connection.alias
    installed = {app_config.label for app_config in global_apps.get_app_configs()}
    # post_migrate creates permissions only after the whole migrate run: create them now.
    for label in ("amazon_channel", "commerce_orders"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, using=using, apps=apps)
    if SANDBOX in installed:
        sandbox_permission_create(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in ROLES.items():
        wanted = {tuple(permission.split(".")) for permission in permissions}
        wanted = {(app, codename) for app, codename in wanted if app in installed}
        found = [
            permission
            for permission in Permission.objects.using(using)
            .filter(codename__in={codename for _, codename in wanted})
            .select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        if len(found) != len(wanted):
            raise RuntimeError(f"Role {name}: some of {sorted(wanted)} do not exist.")
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(found)


def roles_delete(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("amazon_channel", "0011_search_parameters_rate_plans"),
        ("commerce_orders", "0005_grid_sort_indexes"),
    ]

    operations = [migrations.RunPython(roles_create, roles_delete)]
