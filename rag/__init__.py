"""minusma-chat: answers questions about MINUSMA from its documents, with citations."""
