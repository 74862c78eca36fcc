"""Curation: decisions with undo and history, the curator's filtered reads and
stats, the checks that flag rows, editing in $EDITOR, and what chat and
evaluation send back.
"""
