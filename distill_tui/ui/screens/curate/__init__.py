"""The Curate screen (3): the table, the detail pane, edits, bulk checks, export."""
