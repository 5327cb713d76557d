"""A retrieval-augmented assistant: answers questions from its documents, with citations."""
