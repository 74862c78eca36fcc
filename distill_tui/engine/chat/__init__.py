"""After training: chat sessions, batched answers, evaluation, the judge and fuse."""
