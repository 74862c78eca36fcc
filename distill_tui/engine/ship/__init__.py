"""The fused student elsewhere: mlx_lm.server, LM Studio, Ollama and GGUF files."""
