"""Classical alpha matting."""
