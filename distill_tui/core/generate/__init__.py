"""Generation bookkeeping: the queue's store queries, prices, spends outside the
queue, answers kept when the store could not take them, pending inputs deleted,
and the corpus importer.
"""
