"""The logic behind the app's tabs as plain functions (no Gradio): chat, sources, draft form, access, start-up."""
