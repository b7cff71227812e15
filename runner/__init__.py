"""The spreadsheet engine: extract, detect, map, transform, validate, write.

No Flask, no SQL, no environment reads: everything comes in as arguments.
"""
