"""What leaves with a student: provenance, the teachers' terms and the model card."""
