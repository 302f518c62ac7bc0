"""The control page, mounted at /sandbox/ on the main site."""

app_name = "seller_central_sandbox"

urlpatterns: list = []
