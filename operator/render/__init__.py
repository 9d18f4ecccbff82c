"""operator/render."""
