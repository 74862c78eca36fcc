from distill_tui.engine.mlx_thread import mlx_thread


def test_tiny_model_loads_and_generates(tiny_model):
    def go():
        from mlx_lm import generate, load

        model, tok = load(str(tiny_model))
        prompt = tok.apply_chat_template(
            [{"role": "user", "content": "hi"}], add_generation_prompt=True
        )
        return generate(model, tok, prompt, max_tokens=5)

    out = mlx_thread().call(go)
    assert isinstance(out, str)
