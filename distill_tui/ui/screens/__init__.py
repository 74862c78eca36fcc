"""The five screens, one module each."""
