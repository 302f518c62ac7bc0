"""The demo for `make run`, the browser tests and the benchmarks: a merchant login, a catalog
and a store connected to the Seller Central sandbox. Not part of the product's domain."""
