"""The Queue screen (2): the teacher's progress and each row's history."""
