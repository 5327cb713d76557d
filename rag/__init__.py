"""minusma-chat: answers questions from its documents, with citations."""
