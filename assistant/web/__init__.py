"""The logic behind the app's tabs as plain functions (no Gradio imports): chat, sources, draft form, access."""
