"""Matting methods: one module per method, one public function each."""
