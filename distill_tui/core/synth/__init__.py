"""Inputs without a corpus: the topic tree in the store and the candidates a
teacher wrote, read from its reply.
"""
