"""The Task screen (1): the form, the student picker, imports and synthesis."""
