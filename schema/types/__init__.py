"""Strawberry object types. Thin: each field reads an attribute of the row it is given or asks
a DataLoader; no SQL and no rules here."""
