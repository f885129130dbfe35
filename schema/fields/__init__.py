"""Root fields, one module per domain; `schema.root` merges them into Glific's root types."""
