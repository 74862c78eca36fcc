"""Loading students: GGUF conversion, tokenizers rebuilt from GGUF, end tokens
and token counting with the student's own tokenizer.
"""
