"""Images: rendering on GPU workers (ComfyUI, Automatic1111) behind one small client interface."""
