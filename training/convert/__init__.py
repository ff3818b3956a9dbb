"""Converters from third-party checkpoint formats to Hugging Face folders and model packs.

Import the converters from their modules (e.g. `training.convert.gguf_to_hf`): re-exporting them here
would make `python -m training.convert.gguf_to_hf` import the module twice.
"""
