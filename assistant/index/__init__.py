"""The index: the Chroma store (the only code that talks to Chroma), the BM25 index derived from it, documents."""
