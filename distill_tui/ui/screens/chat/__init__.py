"""The Chat screen (5): chat, the picker, evaluation, fuse."""
