"""The teacher writes inputs: a topic tree's leaves (`topics`), inputs like
failing rows (`similar`), and the filter every new input passes.
"""
