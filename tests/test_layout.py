"""The arrows the README draws ("How the code is laid out") point one way: dashboard ->
amazon_channel -> commerce_orders, the sandbox shares nothing, and inside amazon_channel
orders -> outbox -> stores -> spapi. Read from every import of the product's modules, as
tests/test_import_circles.py reads them."""

from tests.test_import_circles import import_graph, project_modules

# (importer, imported): no module under the first imports one under the second.
FORBIDDEN = [
    *[("commerce_orders", room) for room in ("amazon_channel", "dashboard", "demo")],
    *[("amazon_channel", room) for room in ("dashboard", "demo")],
    *[
        ("seller_central_sandbox", room)
        for room in ("amazon_channel", "commerce_orders", "dashboard", "demo", "config")
    ],
    *[
        (room, "seller_central_sandbox")
        for room in ("amazon_channel", "commerce_orders", "dashboard", "demo", "config")
    ],
    *[
        ("amazon_channel.spapi", room)
        for room in (
            "amazon_channel.stores",
            "amazon_channel.outbox",
            "amazon_channel.orders",
            "amazon_channel.tasks",
        )
    ],
    *[
        ("amazon_channel.stores", room)
        for room in ("amazon_channel.outbox", "amazon_channel.orders", "amazon_channel.tasks")
    ],
    *[
        ("amazon_channel.outbox", room)
        for room in ("amazon_channel.orders", "amazon_channel.tasks")
    ],
    ("amazon_channel.orders", "amazon_channel.tasks"),
]


def _is_in(module: str, room: str) -> bool:
    return module == room or module.startswith(f"{room}.")


def _is_product(module: str) -> bool:
    parts = module.split(".")
    return parts[0] not in {"tests", "bench", "conftest"} and not {
        "tests",
        "testing",
        "migrations",
    } & set(parts)


def test_the_arrows_between_the_rooms_point_one_way():
    graph = import_graph(project_modules())

    wrong_way = sorted(
        f"{module} -> {imported}"
        for module, imports in graph.items()
        if _is_product(module)
        for imported in imports
        for importer_room, imported_room in FORBIDDEN
        if _is_in(module, importer_room) and _is_in(imported, imported_room)
    )

    assert wrong_way == []
    # The rule reads real imports: the dashboard does reach the Amazon side.
    assert any(_is_in(name, "amazon_channel") for name in graph["dashboard.amazon_orders.views"])
