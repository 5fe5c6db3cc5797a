"""Model access: the chat model factory (OpenAI-compatible) and the offline switch."""

from netra.llm.factory import chat_model

__all__ = ["chat_model"]
