"""Models: the embedding model and the chat-model registry (one place picks a backend)."""
