"""The sandbox's writes: sellers and tokens, orders and their lifecycle, feeds."""
